"""The overview's numbers, checked against independent references: statsmodels' Wilson interval,
NPS counted by hand (Reichheld 2003), and the index estimate of scoring.perception_index_by_group
computed from the raw respondent x dimension matrix."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from perception.analysis.services.facts import DIMENSION_CODES
from perception.analysis.services.filters import parse_filters
from perception.analysis.services.overview import overview
from tests.analysis.conftest import MONDAY


def _filters(db_session, args, scope=None):
    return parse_filters(db_session, args, scope, today=MONDAY)


def test_csat_and_nps_per_region_match_references(db_session, org, catalog, observe, period_args):
    r1, r2 = org["R1"]["region"], org["R2"]["region"]
    desk = catalog["DESK"]
    r1_csat = [5, 4, 4, 3, 2, 5, 5, 1, 4, 3]  # 6 of 10 are 4-5
    observe(r1, desk, "csat", r1_csat)
    observe(r2, desk, "csat", [5] * 35 + [2] * 5)
    nps_scores = [10, 9, 9, 8, 7, 6, 3, 10, 0, 9]  # 5 promoters, 3 detractors
    observe(r1, desk, "nps", nps_scores, scale=(0, 10))
    view = overview(db_session, _filters(db_session, period_args))

    row = next(r for r in view.regions if r.code == "R1")
    low, high = proportion_confint(6, 10, alpha=0.05, method="wilson")
    assert row.csat.estimate == pytest.approx(0.6)
    assert (row.csat.ci_low, row.csat.ci_high) == pytest.approx((low, high))
    assert row.csat.low_sample is True  # n = 10 < 30
    assert row.nps.estimate == pytest.approx(100 * (5 - 3) / 10)
    # The batched NPS interval equals scoring's one-group path (Rocks 2016 score interval).
    from scoring import nps_from_counts

    ref = nps_from_counts(5, 2, 3)
    assert (row.nps.ci_low, row.nps.ci_high) == pytest.approx((ref.ci_low, ref.ci_high))
    r2row = next(r for r in view.regions if r.code == "R2")
    assert r2row.csat.n == 40 and r2row.csat.low_sample is False
    assert r2row.nps is None
    assert view.total.csat.n == 50 and view.total.csat.successes == 6 + 35


def test_region_scope_restricts_every_number(db_session, org, catalog, observe, period_args):
    r1, r2 = org["R1"]["region"], org["R2"]["region"]
    observe(r1, catalog["DESK"], "csat", [5, 5, 5])
    observe(r2, catalog["DESK"], "csat", [1, 1])
    view = overview(db_session, _filters(db_session, period_args, scope=frozenset({r1.id})))
    assert [r.code for r in view.regions] == ["R1"]
    assert view.total.csat.n == 3


def test_index_estimate_matches_scoring_and_interval_is_conservative(
    db_session, org, catalog, observe, period_args
):
    from scoring import perception_index_by_group

    rng = np.random.default_rng(3)
    n = 60
    base = rng.integers(2, 6, size=n)
    matrix = np.clip(base[:, None] + rng.integers(-1, 2, size=(n, 6)), 1, 5).astype(float)
    matrix[rng.random((n, 6)) < 0.1] = np.nan  # some skipped dimensions
    r1 = org["R1"]["region"]
    for d, dim in enumerate(DIMENSION_CODES):
        rows = [i for i in range(n) if not math.isnan(matrix[i, d])]
        observe(
            r1, catalog["DESK"], "rating", matrix[rows, d], dimension=dim, respondents=[i + 1 for i in rows]
        )
    view = overview(db_session, _filters(db_session, period_args))
    exact = perception_index_by_group(matrix)[0]
    got = view.total.index
    assert got.estimate == pytest.approx(exact.estimate)
    assert got.ci_low <= exact.ci_low and got.ci_high >= exact.ci_high


def test_trend_has_every_week(db_session, org, catalog, observe, period_args):
    r1 = org["R1"]["region"]
    for week in range(3):
        observe(r1, catalog["DESK"], "csat", [5] * 45 + [2] * 5, week=week)
    observe(r1, catalog["DESK"], "csat", [5] * 20 + [2] * 30, week=3)
    view = overview(db_session, _filters(db_session, period_args))
    assert [p.label for p in view.trend] == ["2026-W10", "2026-W11", "2026-W12", "2026-W13"]
    assert view.trend[3].csat.estimate == pytest.approx(0.4)
    # Drops are the change look's (tests/analysis/test_changes_service.py): eight baseline weeks
    # are not there, so the 3 weeks before stand as the baseline of the last four.
    assert view.changes.window is not None


def test_month_grain_rolls_weeks_up(db_session, org, catalog, observe):
    r1 = org["R1"]["region"]
    observe(r1, catalog["DESK"], "csat", [5, 4], week=0)  # 2026-03-02
    observe(r1, catalog["DESK"], "csat", [1], week=5)  # 2026-04-06
    f = parse_filters(
        db_session, {"from": "2026-03-02", "to": "2026-04-30", "grain": "month"}, None, today=MONDAY
    )
    view = overview(db_session, f)
    labels = {p.label: p for p in view.trend}
    assert labels["2026-03"].csat.n == 2 and labels["2026-04"].csat.n == 1
