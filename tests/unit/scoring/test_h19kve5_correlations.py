"""Issue 19: kpi_experience_correlations(over_time=False), the page's call, gives the same
correlations across regions as the full call and leaves out those over periods."""

from __future__ import annotations

from scoring import ComparisonCell, compare_kpi_experience
from scoring.association import kpi_experience_correlations


def test_across_regions_alone_are_the_same():
    cells = [
        ComparisonCell(
            service=f"S{s}:K",
            region=f"R{r}",
            period=p,
            kpi_value=0.8 + 0.01 * ((r * 7 + s) % 13),
            kpi_target=0.9,
            kpi_comparator=">=",
            experience_target=0.85,
            experience_n=60,
            experience_successes=30 + (r * 5 + p * 3 + s) % 29,
        )  # fmt: skip
        for s in range(3)
        for r in range(6)
        for p in range(4)
    ]
    report = compare_kpi_experience(cells)
    full = kpi_experience_correlations(report.cells)
    across = kpi_experience_correlations(report.cells, over_time=False)
    assert full.over_time and across.over_time == ()
    assert repr(across.across_regions) == repr(full.across_regions) and len(full.across_regions) == 12
