"""Issue 14: the overview's perception index is the customers' answers only, with the respondents
as n, what it is made of, and the collectors' weekly-report ratings as a separate voice. Today the
index mixed both voices and showed the largest dimension's n ("n=445" where 986 contribute)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from perception.analysis.services.filters import parse_filters
from perception.analysis.services.overview import overview
from perception.analysis.services.perception_index import index_by
from tests.analysis.conftest import MONDAY


@pytest.fixture
def voices(db_session, org, catalog, observe):
    r1, desk = org["R1"]["region"], catalog["DESK"]
    # 40 customers each rate response speed and staff attitude (ids 1..40), 20 more rate only
    # fault handling (ids 41..60); collectors' weekly reports rate training 10 times, all low.
    observe(r1, desk, "rating", [5, 4] * 20, dimension="response_speed", respondents=range(1, 41))
    observe(r1, desk, "rating", [4, 4, 3, 5] * 10, dimension="staff_attitude", respondents=range(1, 41))
    observe(r1, desk, "rating", [3] * 20, dimension="fault_handling", respondents=range(41, 61))
    observe(
        r1, desk, "rating", [1] * 10, dimension="training_effect", source="feedback", respondents=range(1, 11)
    )
    return r1


def test_customers_index_apart_from_weekly_reports(db_session, voices, period_args):
    filters = parse_filters(db_session, period_args, None, today=MONDAY)
    customers = index_by(db_session, filters)[()]
    assert customers.measure.n == 60  # respondents, not the largest dimension (40)
    assert {p.code: p.n_ratings for p in customers.parts} == {
        "response_speed": 40, "staff_attitude": 40, "fault_handling": 20,
    }  # fmt: skip
    assert customers.thin == ("fault_handling",) and customers.measure.low_sample
    means = [np.mean([100, 75] * 20), np.mean([75, 75, 50, 100] * 10), 50.0]
    assert customers.measure.estimate == pytest.approx(np.mean(means))
    reports = index_by(db_session, filters, voice="reports")[()]
    assert reports.measure.n == 10 and reports.measure.estimate == 0.0
    assert [p.code for p in reports.parts] == ["training_effect"]
    # The interval: each respondent's influence on the ratio means, checked by hand.
    y = {
        "response_speed": np.array([100.0, 75.0] * 20 + [np.nan] * 20),
        "staff_attitude": np.array([75.0, 75.0, 50.0, 100.0] * 10 + [np.nan] * 20),
        "fault_handling": np.array([np.nan] * 40 + [50.0] * 20),
    }
    u = np.zeros(60)
    for col in y.values():
        ok = ~np.isnan(col)
        u[ok] += (col[ok] - col[ok].mean()) / (3 * ok.sum())
    se = np.sqrt(60 / 59 * (u**2).sum())
    half = stats.t.ppf(0.975, 59) * se
    assert (customers.measure.ci_low, customers.measure.ci_high) == pytest.approx(
        (customers.measure.estimate - half, customers.measure.estimate + half)
    )


def test_overview_headline_is_the_customers_index(db_session, voices, period_args):
    view = overview(db_session, parse_filters(db_session, period_args, None, today=MONDAY))
    assert view.total.index is not None and view.total.index.n == 60
    assert view.total.index_detail is not None and view.total.index_detail.thin == ("fault_handling",)
    assert view.reports_index is not None and view.reports_index.measure.n == 10
    region = view.regions[0]
    assert region.index is not None and region.index.n == 60 and region.index.key == (voices.id,)
    assert any(p.index is not None and p.index.n == 60 for p in view.trend)


def test_no_ratings_no_index(db_session, org, period_args):
    filters = parse_filters(db_session, period_args, None, today=MONDAY)
    assert index_by(db_session, filters) == {}
    assert overview(db_session, filters).total.index is None
