"""Issue 14, the experience page's voices: the six dimensions' means, the region x dimension heat
map, importance-performance and the key drivers mixed the collectors' weekly-report ratings
(source "feedback") with the customers' own answers (surveys, phone callbacks, sampling). The
headline figures are now the customers' answers only (perception_index.VOICES["customers"], as
the perception index and change detection); the weekly-report ratings are shown apart with their
own n, on the page (zh and en) and in the API. References are hand-computed and scipy's t interval."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from perception.analysis.services.experience import experience
from perception.analysis.services.facts import DIMENSION_CODES
from perception.analysis.services.filters import parse_filters
from tests.analysis.conftest import MONDAY

ATTITUDE = DIMENSION_CODES.index("staff_attitude")


def _view(db_session, period_args):
    return experience(db_session, parse_filters(db_session, period_args, None, today=MONDAY))


def test_weekly_report_ratings_no_longer_pull_the_customers_mean(
    db_session, org, catalog, observe, period_args
):
    """Customers rate staff attitude 5 (callbacks) and 4/5 (a survey); the collectors' weekly
    reports rate it 2. The old page showed one mean in between (3.56 over 9 ratings)."""
    r1, r2, desk = org["R1"]["region"], org["R2"]["region"], catalog["DESK"]
    customers = [5, 5, 5, 4, 5]
    observe(r1, desk, "rating", customers[:3], dimension="staff_attitude", source="callback")
    observe(r1, desk, "rating", customers[3:], dimension="staff_attitude", source="survey")
    observe(r1, desk, "rating", [2, 2, 2, 2], dimension="staff_attitude", source="feedback")
    observe(r2, desk, "rating", [1, 3], dimension="response_speed", source="feedback")  # reports only
    view = _view(db_session, period_args)

    attitude = dict(view.dimensions)["staff_attitude"]
    a = np.asarray(customers, dtype=float)
    low, high = stats.t.interval(0.95, a.size - 1, loc=a.mean(), scale=stats.sem(a))
    assert (attitude.n, attitude.estimate) == (5, pytest.approx(4.8))  # not (9, 3.56)
    assert (attitude.ci_low, attitude.ci_high) == pytest.approx((low, high))
    assert dict(view.dimensions)["response_speed"] is None  # no customer rated it

    reports = dict(view.reports_dimensions)
    assert (reports["staff_attitude"].n, reports["staff_attitude"].estimate) == (4, pytest.approx(2.0))
    assert (reports["response_speed"].n, reports["response_speed"].estimate) == (2, pytest.approx(2.0))
    assert reports["deliverable_quality"] is None

    # Heat map: customers' means per region; the reports' apart, over the same regions.
    assert [r[1] for r in view.heat_regions] == ["R1", "R2"]
    assert view.heat[0][ATTITUDE] == pytest.approx(4.8) and view.heat_n[0][ATTITUDE] == 5
    assert all(math.isnan(m) for m in view.heat[1]) and view.heat_n[1] == (0,) * 6
    assert view.reports_heat[0][ATTITUDE] == pytest.approx(2.0) and view.reports_heat_n[0][ATTITUDE] == 4
    speed = DIMENSION_CODES.index("response_speed")
    assert view.reports_heat[1][speed] == pytest.approx(2.0) and view.reports_heat_n[1][speed] == 2


@pytest.mark.parametrize("reports", [[], [3], [2, 2, 2]], ids=["n=0", "n=1", "all-equal"])
def test_reports_voice_at_small_n(db_session, org, catalog, observe, period_args, reports):
    r1, desk = org["R1"]["region"], catalog["DESK"]
    observe(r1, desk, "rating", [4, 5], dimension="deliverable_quality")
    if reports:
        observe(r1, desk, "rating", reports, dimension="deliverable_quality", source="feedback")
    view = _view(db_session, period_args)
    assert dict(view.dimensions)["deliverable_quality"].estimate == pytest.approx(4.5)
    got = dict(view.reports_dimensions)["deliverable_quality"]
    if not reports:
        assert got is None and view.reports_heat_n[0] == (0,) * 6
        return
    assert got.n == len(reports) and got.estimate == pytest.approx(float(np.mean(reports)))
    if len(reports) == 1:
        assert math.isnan(got.ci_low) and math.isnan(got.ci_high)
    else:  # all equal: a zero-width interval
        assert got.ci_low == pytest.approx(2.0) and got.ci_high == pytest.approx(2.0)


def test_drivers_and_ipa_use_customers_answers_only(db_session, org, catalog, observe, period_args):
    """A weekly-report entry carries no overall answer today, so it never met the drivers' rule of
    'an overall answer and a dimension'; the drivers now leave that voice out by rule: rows of the
    report source that did carry one (here written by hand) change nothing."""
    from scoring import importance_performance, key_drivers

    rng = np.random.default_rng(3)
    r1, desk = org["R1"]["region"], catalog["DESK"]
    n = 60
    ratings = np.clip(rng.integers(2, 6, size=n)[:, None] + rng.integers(-1, 2, size=(n, 6)), 1, 5).astype(
        float
    )
    overall = np.clip(np.rint(ratings[:, :3].mean(axis=1) + rng.normal(0, 0.4, n)), 1, 5)
    for d, dim in enumerate(DIMENSION_CODES):
        observe(r1, desk, "rating", ratings[:, d], dimension=dim, respondents=range(1, n + 1))
    observe(r1, desk, "csat", overall, respondents=range(1, n + 1))
    m = 40  # report rows with the opposite relation: they would move every figure
    for dim in DIMENSION_CODES:
        observe(r1, desk, "rating", [1 + (i % 5) for i in range(m)], dimension=dim,
                respondents=range(1, m + 1), source="feedback")  # fmt: skip
    observe(r1, desk, "csat", [5 - (i % 5) for i in range(m)], respondents=range(1, m + 1), source="feedback")
    view = _view(db_session, period_args)
    assert view.driver_respondents == n
    ref_ipa = importance_performance(ratings, overall, list(DIMENSION_CODES))
    assert [p.performance for p in view.ipa.points] == pytest.approx([p.performance for p in ref_ipa.points])
    assert [p.importance for p in view.ipa.points] == pytest.approx([p.importance for p in ref_ipa.points])
    assert view.drivers.r_squared == pytest.approx(
        key_drivers(ratings, overall, list(DIMENSION_CODES)).r_squared
    )


@pytest.mark.parametrize(
    ("language", "customers_label", "reports_label"),
    [
        ("en", "Customers' answers", "Weekly reports (collectors)"),
        ("zh-CN", "客户答复", "每周报告（采集员）"),
    ],
)
def test_page_and_api_say_what_each_figure_is_made_of(
    db_session,
    org,
    catalog,
    observe,
    period_args,
    login_as,
    make_user,
    client,
    language,
    customers_label,
    reports_label,
):
    from perception.core.users import issue_token

    r1, desk = org["R1"]["region"], catalog["DESK"]
    observe(r1, desk, "rating", [5, 4, 5], dimension="staff_attitude", source="callback")
    observe(r1, desk, "rating", [2, 1], dimension="staff_attitude", source="feedback")
    html = (
        login_as("analyst")
        .get("/analysis/experience?from=2026-W10&to=2026-W13", headers={"Accept-Language": language})
        .get_data(as_text=True)
    )
    assert 'data-testid="experience-voices"' in html
    assert customers_label in html and reports_label in html
    assert "4.67" in html and "1.50" in html and "n=3" in html and "n=2" in html
    assert "3.40" not in html  # the mixed mean of old: 17 / 5

    _, secret = issue_token(db_session, make_user("api_voices", "analyst"), "t")
    db_session.commit()
    body = client.get(
        "/api/v1/analysis/experience?from=2026-W10&to=2026-W13", headers={"Authorization": f"Bearer {secret}"}
    ).get_json()
    assert body["voices"] == {
        "headline": "customers",
        "customers": ["survey", "callback", "sampling"],
        "reports": ["feedback"],
    }
    mean = {d["dimension"]: d["measure"] for d in body["dimensions"]}["staff_attitude"]
    assert (mean["n"], mean["estimate"]) == (3, pytest.approx(14 / 3))
    rep = {d["dimension"]: d["measure"] for d in body["reports_dimensions"]}["staff_attitude"]
    assert (rep["n"], rep["estimate"]) == (2, pytest.approx(1.5))
    at = body["heat"]["dimensions"].index("staff_attitude")
    assert body["heat"]["means"][0][at] == pytest.approx(14 / 3) and body["heat"]["n"][0][at] == 3
    assert (
        body["heat"]["reports_means"][0][at] == pytest.approx(1.5) and body["heat"]["reports_n"][0][at] == 2
    )
