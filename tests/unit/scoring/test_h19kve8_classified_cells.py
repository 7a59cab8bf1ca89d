"""Issue 19: classify_kpi_experience gives compare_kpi_experience's verdicts as arrays over every
cell (quadrant, evidence, the watermelons' rank, the counts) and builds a CellComparison only for
the cells asked for. Each array entry and each result built must be the per-cell code's
(compare_one, _judged and the ranking: the reference in test_h19kve_comparison_vectorised), on
generated cells and on hand-picked edges (values exactly on their targets, one answer, NaN
intervals, n just under and at the minimum, ties, pooled tiers without tickets)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from scoring.comparison import QUADRANTS, ComparisonCell, classify_kpi_experience, compare_kpi_experience
from tests.unit.scoring.test_h19kve4_comparison_arrays import _assert_same, _edge_cells
from tests.unit.scoring.test_h19kve_comparison_vectorised import _per_cell, _random_cells


def _boundaries() -> list[ComparisonCell]:
    """Cells on the thresholds: KPI and experience exactly at target under each comparator, n at
    min_n - 1, min_n and min_n + 1, a share of 0 and of all answers, and two identical cells."""
    base = ComparisonCell(
        service="S:K", region="R", period="p", kpi_value=0.9, kpi_target=0.9, kpi_comparator=">=",
        experience_target=0.8, experience_n=30, experience_successes=24,
    )  # fmt: skip
    out = []
    for comparator in (">=", ">", "<=", "<"):
        out.append(replace(base, kpi_comparator=comparator, region=f"K{comparator}"))
        out.append(replace(base, experience_comparator=comparator, region=f"E{comparator}"))
    for n in (29, 30, 31):
        out.append(replace(base, experience_n=n, experience_successes=n, region=f"N{n}"))
        out.append(replace(base, experience_n=n, experience_successes=0, region=f"Z{n}"))
    out += [replace(base, region="tie"), replace(base, region="tie")]
    mean = replace(
        base, experience_successes=None, experience_mean=4.0, experience_sd=0.0, experience_target=4.0
    )
    out += [mean, replace(mean, experience_n=1, region="one"), replace(mean, experience_sd=float("nan"))]
    return out


def _cells(seed: int) -> list[ComparisonCell]:
    return _boundaries() + _edge_cells() + _random_cells(seed, 400)


@pytest.mark.parametrize("seed, confidence, min_n", [(41, 0.95, 30), (42, 0.95, 30), (43, 0.8, 2)])
def test_the_arrays_are_the_per_cell_verdicts(seed, confidence, min_n):
    cells = _cells(seed)
    want, counts = _per_cell(cells, confidence=confidence, min_n=min_n)
    got = classify_kpi_experience(cells, confidence=confidence, min_n=min_n)
    assert got.quadrant.tolist() == [c.quadrant for c in want]
    assert got.evidenced.tolist() == [c.evidenced for c in want]
    ranked = sorted(
        (i for i, c in enumerate(want) if c.watermelon_rank), key=lambda i: want[i].watermelon_rank
    )
    assert got.watermelons == ranked
    assert got.quadrant_counts == counts
    assert {c.quadrant for c in want} == set(QUADRANTS)  # every quadrant was exercised


@pytest.mark.parametrize("seed", [44, 45])
def test_a_few_results_are_those_of_every_cell(seed):
    """The results of some cells (in any order, repeated) are the report's results of those cells."""
    cells = _cells(seed)
    report = compare_kpi_experience(cells)
    got = classify_kpi_experience(cells)
    rng = np.random.default_rng(seed)
    positions = rng.choice(len(cells), size=60).tolist() + got.watermelons[:5] + [0, len(cells) - 1]
    _assert_same(got.results(positions), [report.cells[i] for i in positions])
    want, _ = _per_cell(cells)
    _assert_same(got.results(positions), [want[i] for i in positions])
    assert got.results([]) == []


def test_no_cells():
    got = classify_kpi_experience([])
    assert got.quadrant_counts == tuple((q, 0) for q in QUADRANTS)
    assert got.watermelons == [] and got.results([]) == []
    assert compare_kpi_experience([]).cells == ()
