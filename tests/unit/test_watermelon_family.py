"""Issue 14: the multiplicity correction counts each experience measurement once. Two KPIs of one
region x service cell share one experience number: listing it twice must not change the BH
family (yesterday "29 watermelons" were 22 distinct measurements)."""

from __future__ import annotations

import pytest
from statsmodels.stats.multitest import multipletests

from scoring.comparison import ComparisonCell, compare_kpi_experience


def _cell(service: str, region: str, successes: int, n: int = 100) -> ComparisonCell:
    return ComparisonCell(
        service=service, region=region, period="p", kpi_value=0.97, kpi_target=0.95, kpi_comparator=">=",
        experience_target=0.85, experience_n=n, experience_successes=successes, kpi_n=4000,
    )  # fmt: skip


def test_kpis_sharing_one_measurement_are_one_test():
    once = compare_kpi_experience([_cell("DESK:RESP", "R1", 76), _cell("NET:UP", "R2", 80)])
    twice = compare_kpi_experience(
        [_cell("DESK:RESP", "R1", 76), _cell("DESK:FCR", "R1", 76), _cell("NET:UP", "R2", 80)]
    )
    p = [c.p_value for c in once.cells]
    q = multipletests(p, method="fdr_bh")[1]
    assert [c.q_value for c in once.cells] == pytest.approx(list(q))
    assert [c.q_value for c in twice.cells] == pytest.approx([q[0], q[0], q[1]])
