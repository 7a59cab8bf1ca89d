"""Experience analysis against independent references: SERVQUAL gaps from raw matrices
(scoring.servqual_gaps, itself checked against scipy's paired t test), dimension means with
scipy's t interval, importance-performance and drivers from the same respondents' matrix."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from perception.analysis.services.experience import experience
from perception.analysis.services.filters import parse_filters
from tests.analysis.conftest import MONDAY

DIMS = ("reliability", "reliability", "empathy", "empathy", "tangibles")


def test_servqual_gaps_match_scoring_reference(db_session, org, catalog, period_args):
    from perception.core.models.facts import ExperienceObservation
    from scoring import servqual_gaps

    rng = np.random.default_rng(7)
    n, items = 40, len(DIMS)
    expect = rng.integers(3, 8, size=(n, items)).astype(float)
    perceive = np.clip(expect + rng.integers(-3, 2, size=(n, items)), 1, 7).astype(float)
    perceive[rng.random((n, items)) < 0.08] = np.nan
    r1, desk = org["R1"]["region"], catalog["DESK"]
    from tests.analysis.conftest import MONDAY

    rows = []
    for r in range(n):
        for i in range(items):
            for kind, matrix in (("servqual_expectation", expect), ("servqual_perception", perceive)):
                if np.isnan(matrix[r, i]):
                    continue
                rows.append(
                    dict(source="survey", source_id=r + 1, observed_on=MONDAY, period_start=MONDAY,
                         region_id=r1.id, customer_id=None, service_id=desk.id, tier_id=None, kind=kind,
                         dimension=None, servqual_dimension=DIMS[i], item=f"q{i + 1}", standard_code=None,
                         value=float(matrix[r, i]), scale_min=1.0, scale_max=7.0)
                )  # fmt: skip
    db_session.execute(ExperienceObservation.__table__.insert(), rows)
    view = experience(db_session, parse_filters(db_session, period_args, None, today=MONDAY))
    ref = servqual_gaps(perceive, expect, list(DIMS), item_names=[f"q{i + 1}" for i in range(items)])
    got = {(g.level, g.name): g for g in view.servqual}
    for item in ref.items:
        mine = got[("item", item.name)]
        assert mine.n == item.n and mine.gap.estimate == pytest.approx(item.gap)
        assert (mine.gap.ci_low, mine.gap.ci_high) == pytest.approx((item.ci_low, item.ci_high))
    for dim in ref.dimensions:
        mine = got[("dimension", dim.name)]
        assert mine.gap.estimate == pytest.approx(dim.gap) and mine.gap.ci_low == pytest.approx(dim.ci_low)
    overall = got[("overall", "unweighted")]
    assert overall.gap.estimate == pytest.approx(ref.overall_unweighted.gap)
    assert overall.gap.ci_high == pytest.approx(ref.overall_unweighted.ci_high)
    # And the item interval is the paired t interval (scipy).
    g = perceive[:, 0] - expect[:, 0]
    g = g[~np.isnan(g)]
    low, high = stats.t.interval(0.95, len(g) - 1, loc=g.mean(), scale=stats.sem(g))
    assert (got[("item", "q1")].gap.ci_low, got[("item", "q1")].gap.ci_high) == pytest.approx((low, high))


def test_dimensions_heatmap_and_drivers(db_session, org, catalog, observe, period_args):
    from scoring import importance_performance, key_drivers

    rng = np.random.default_rng(11)
    r1, r2, desk = org["R1"]["region"], org["R2"]["region"], catalog["DESK"]
    n = 80
    base = rng.integers(1, 6, size=n)
    ratings = np.clip(base[:, None] + rng.integers(-1, 2, size=(n, 6)), 1, 5).astype(float)
    overall = np.clip(np.rint(ratings[:, :3].mean(axis=1) + rng.normal(0, 0.4, n)), 1, 5)
    from perception.analysis.services.facts import DIMENSION_CODES

    for d, dim in enumerate(DIMENSION_CODES):
        kind = "likert" if d % 2 else "rating"  # both kinds carry dimension ratings
        observe(r1, desk, kind, ratings[:, d], dimension=dim, respondents=range(1, n + 1))
    observe(r1, desk, "csat", overall, respondents=range(1, n + 1))
    observe(r2, desk, "rating", [2, 3], dimension="staff_attitude", respondents=[1001, 1002])
    view = experience(db_session, parse_filters(db_session, period_args, None, today=MONDAY))
    speed = dict(view.dimensions)["response_speed"]
    low, high = stats.t.interval(0.95, n - 1, loc=ratings[:, 0].mean(), scale=stats.sem(ratings[:, 0]))
    assert speed.estimate == pytest.approx(ratings[:, 0].mean()) and speed.ci_low == pytest.approx(low)
    assert speed.ci_high == pytest.approx(high)
    assert [r[1] for r in view.heat_regions] == ["R1", "R2"]
    attitude = DIMENSION_CODES.index("staff_attitude")
    assert view.heat[1][attitude] == pytest.approx(2.5) and np.isnan(view.heat[1][0])
    assert view.heat_n[0][1] == n  # the likert-carried dimension counts
    ref_ipa = importance_performance(ratings, overall, list(DIMENSION_CODES))
    assert [p.quadrant for p in view.ipa.points] == [p.quadrant for p in ref_ipa.points]
    assert [p.importance for p in view.ipa.points] == pytest.approx([p.importance for p in ref_ipa.points])
    ref_drivers = key_drivers(ratings, overall, list(DIMENSION_CODES))
    assert view.drivers.r_squared == pytest.approx(ref_drivers.r_squared)
    assert view.driver_respondents == n and not view.driver_capped


def test_drivers_explain_nps_when_no_csat_goes_with_the_dimensions(
    db_session, org, catalog, observe, period_args
):
    from perception.analysis.services.facts import DIMENSION_CODES
    from scoring import key_drivers

    rng = np.random.default_rng(5)
    r1, desk = org["R1"]["region"], catalog["DESK"]
    n = 60
    ratings = np.clip(rng.integers(2, 6, size=n)[:, None] + rng.integers(-1, 2, size=(n, 6)), 1, 5).astype(
        float
    )
    nps = np.clip(np.rint(2 * ratings[:, :2].mean(axis=1) + rng.normal(0, 1, n)), 0, 10)
    for d, dim in enumerate(DIMENSION_CODES):
        observe(r1, desk, "likert", ratings[:, d], dimension=dim, respondents=range(1, n + 1))
    observe(r1, desk, "nps", nps, scale=(0, 10), respondents=range(1, n + 1))
    observe(r1, desk, "csat", [5, 4], respondents=[901, 902])  # CSAT from other respondents only
    view = experience(db_session, parse_filters(db_session, period_args, None, today=MONDAY))
    assert view.driver_overall == "nps" and view.driver_respondents == n
    assert view.drivers.r_squared == pytest.approx(key_drivers(ratings, nps, list(DIMENSION_CODES)).r_squared)


@pytest.mark.parametrize(
    "answers",
    [[], [6], [5, 5, 5, 5], [7, 6, 5, 2, 6, 6, 4, 7, 3, 5]],
    ids=["n=0", "n=1", "all-equal", "spread"],
)
def test_ces_is_on_the_experience_page_as_on_the_overview(
    db_session, org, catalog, observe, period_args, answers, login_as
):
    """Issue 14: CES (3,328 answers in the demo) was shown nowhere; the overview now shows it, and
    the experience page, where a reader looks for experience measures, shows the same figure:
    the mean with scipy's t interval (none for n = 1 or answers all equal)."""
    from perception.analysis.services.overview import overview

    r1, desk = org["R1"]["region"], catalog["DESK"]
    if answers:
        observe(r1, desk, "ces", answers, scale=(1, 7))
    observe(r1, desk, "rating", [4, 5], dimension="staff_attitude")  # a dimension: not effort
    filters = parse_filters(db_session, period_args, None, today=MONDAY)
    ces = experience(db_session, filters).ces
    shown = overview(db_session, filters, today=MONDAY).total.ces
    if ces is not None:  # the same figure (NaN bounds at n = 1 compare with nan_ok)
        as_tuple = (ces.n, ces.estimate, ces.ci_low, ces.ci_high)
        assert as_tuple == pytest.approx((shown.n, shown.estimate, shown.ci_low, shown.ci_high), nan_ok=True)
    assert (ces is None) == (shown is None)
    html = login_as("analyst").get("/analysis/experience?from=2026-W10&to=2026-W13").get_data(as_text=True)
    assert 'id="effort"' in html and "Customer effort (CES)" in html
    if not answers:
        assert ces is None
        return
    a = np.asarray(answers, dtype=float)
    assert ces.n == a.size and ces.estimate == pytest.approx(a.mean())
    assert f"<strong>{a.mean():.2f}</strong>" in html and f"n={a.size}" in html
    if a.size < 2 or np.all(a == a[0]):
        assert math.isnan(ces.ci_low) or ces.ci_low == pytest.approx(ces.ci_high)
        return
    low, high = stats.t.interval(0.95, a.size - 1, loc=a.mean(), scale=stats.sem(a))
    assert (ces.ci_low, ces.ci_high) == pytest.approx((low, high))
