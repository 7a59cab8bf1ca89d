"""Issue 19: compare_kpi_experience computes the KPI side, the gap, the quadrant, the BH judgement
and the ranking as arrays and builds each cell's result once (it built every result, then replaced
it once or twice: 10,000 replaces per page at national scale). Every field must be the per-cell
code's (compare_one, _judged and the ranking, the reference kept in
test_h19kve_comparison_vectorised), on cells made to hit the edges: NaN intervals (one answer),
ties in the ranking, pooled tiers without tickets, shares outside 0..1, every comparator."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from scoring.comparison import (
    QUADRANTS,
    ComparisonCell,
    KpiGroup,
    compare_cells,
    compare_kpi_experience,
    compare_one,
)
from tests.unit.scoring.test_h19kve_comparison_vectorised import _per_cell, _random_cells, _same


def _edge_cells() -> list[ComparisonCell]:
    base: dict[str, Any] = {
        "service": "S:K", "region": "R", "period": "p", "kpi_value": 0.95, "kpi_target": 0.9,
        "kpi_comparator": ">=", "experience_target": 4.0,
    }  # fmt: skip
    cells = [
        # One answer: the t interval is NaN, the gap's limits too.
        ComparisonCell(**base, experience_n=1, experience_mean=3.0, experience_sd=0.0),
        ComparisonCell(**base, experience_n=2, experience_mean=3.0, experience_sd=float("nan")),
        # Ties in the ranking: the same shortfall in three cells (ranked in their order).
        *(
            replace(ComparisonCell(**base, experience_n=50, experience_mean=3.0, experience_sd=0.5), region=r)
            for r in ("R2", "R3", "R4")
        ),
        # Pooled tiers: one without tickets (no interval), one missed, every comparator.
        ComparisonCell(
            **{**base, "kpi_n": 400},
            experience_n=80,
            experience_mean=3.5,
            experience_sd=1.0,
            kpi_groups=(KpiGroup("G", 0.97, 0.95, ">="), KpiGroup("S", 0.91, 0.92, ">", 300)),
        ),  # fmt: skip
        ComparisonCell(
            **{**base, "kpi_value": 2.0, "kpi_target": 4.0, "kpi_comparator": "<"},
            experience_n=40,
            experience_mean=3.9,
            experience_sd=0.3,
            kpi_groups=(KpiGroup("G", 3.0, 4.0, "<", 10), KpiGroup("S", 4.0, 4.0, "<=", 10)),
        ),  # fmt: skip
        # A share KPI outside 0..1 on its scale (no interval), and one exactly on its target.
        ComparisonCell(
            **{**base, "kpi_value": 1.2, "kpi_n": 50, "experience_target": 0.05},
            experience_n=60,
            experience_successes=30,
        ),  # fmt: skip
        ComparisonCell(
            **{**base, "kpi_value": 0.9, "kpi_n": 50, "kpi_comparator": ">", "experience_target": 1.0},
            experience_n=60,
            experience_successes=60,
        ),  # fmt: skip
        # A "<=" experience target (effort: lower is better), met and missed.
        ComparisonCell(
            **base,
            experience_n=300,
            experience_mean=2.0,
            experience_sd=1.0,
            experience_comparator="<=",
            experience_scale=(1.0, 7.0),
        ),  # fmt: skip
        ComparisonCell(
            **base,
            experience_n=300,
            experience_mean=4.5,
            experience_sd=1.0,
            experience_comparator="<",
            experience_scale=(1.0, 7.0),
        ),  # fmt: skip
        # An experience target of 0 (the ranking's relative gap is the gap itself).
        ComparisonCell(
            **{**base, "experience_target": 0.0},
            experience_n=90,
            experience_mean=-10.0,
            experience_sd=50.0,
            experience_promoters=20,
            experience_detractors=29,
        ),  # fmt: skip
    ]
    return cells


def _assert_same(got: list[Any], want: list[Any]) -> None:
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert _same(a, b), (a, b)
        assert a.to_dict().keys() == b.to_dict().keys()


@pytest.mark.parametrize("confidence, min_n", [(0.95, 30), (0.8, 2)])
def test_edges_give_the_per_cell_results(confidence, min_n):
    cells = _edge_cells() + _random_cells(23, 300)
    want, counts = _per_cell(cells, confidence=confidence, min_n=min_n)
    report = compare_kpi_experience(cells, confidence=confidence, min_n=min_n)
    _assert_same(list(report.cells), want)
    assert report.quadrant_counts == counts
    ranked = sorted((c for c in want if c.watermelon_rank), key=lambda c: c.watermelon_rank)
    _assert_same(list(report.watermelons), ranked)
    assert {c.quadrant for c in report.cells} == set(QUADRANTS)
    assert any(np.isnan(c.gap_ci_low) for c in report.cells)  # the NaN limits were exercised


def test_unjudged_cells_are_compare_ones():
    cells = _edge_cells() + _random_cells(29, 200)
    _assert_same(compare_cells(cells), [compare_one(c) for c in cells])


def test_a_bad_comparator_is_refused_as_before():
    cell = _edge_cells()[2]
    for bad in (replace(cell, kpi_comparator="=>"), replace(cell, experience_comparator="==")):
        with pytest.raises(ValueError, match="comparator must be one of"):
            compare_one(bad)
        with pytest.raises(ValueError, match="comparator must be one of"):
            compare_kpi_experience([cell, bad])
