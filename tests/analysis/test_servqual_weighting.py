"""Weighted SERVQUAL on the experience page: the SQL pivot against scoring.weighted_servqual on the
raw matrices (itself checked by hand and with scipy in tests/unit), and the page in en and zh with
and without weights asked."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from perception.analysis.services.filters import parse_filters
from perception.analysis.services.servqual_weights import servqual_weighting
from tests.analysis.conftest import MONDAY

PERIOD = "from=2026-W10&to=2026-W13"
DIMS = ["tangibles", "reliability", "responsiveness", "assurance", "empathy"]
ITEM_DIMS = ["tangibles", "reliability", "reliability", "responsiveness", "assurance", "empathy"]


def _facts(db_session, region, service, p, e, w):
    """One respondent per row: item facts for the non-NaN pairs, importance facts for the points."""
    from perception.core.models.facts import ExperienceObservation

    base = dict(source="survey", observed_on=MONDAY, period_start=MONDAY, region_id=region.id,
                customer_id=None, service_id=service.id, tier_id=None, dimension=None,
                standard_code=None)  # fmt: skip

    def fact(r: int, kind: str, dim: str, item: str, value: float, high: float) -> dict:
        low = 0.0 if kind == "importance" else 1.0
        return {**base, "source_id": r + 1, "kind": kind, "servqual_dimension": dim, "item": item,
                "value": value, "scale_min": low, "scale_max": high}  # fmt: skip

    rows = []
    for r in range(p.shape[0]):
        for i, dim in enumerate(ITEM_DIMS):
            for kind, matrix in (("servqual_expectation", e), ("servqual_perception", p)):
                if not np.isnan(matrix[r, i]):
                    rows.append(fact(r, kind, dim, f"q{i}", float(matrix[r, i]), 7.0))
        for j, dim in enumerate(DIMS):
            if not np.isnan(w[r, j]):
                rows.append(fact(r, "importance", dim, f"importance.{dim}", float(w[r, j]), 100.0))
    db_session.execute(ExperienceObservation.__table__.insert(), rows)


def _bearer(db_session, client):
    from perception.core.users import issue_token

    _, secret = issue_token(db_session, client.user, "t")
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def answers():
    rng = np.random.default_rng(21)
    n = 36
    e = rng.integers(4, 8, size=(n, len(ITEM_DIMS))).astype(float)
    p = np.clip(e - rng.integers(0, 3, size=e.shape), 1, 7).astype(float)
    p[3, 0] = e[3, 0] = np.nan  # respondent 4 rated no tangibles pair
    w = rng.multinomial(100, [0.1, 0.35, 0.2, 0.2, 0.15], size=n).astype(float)
    w[[5, 9]] = np.nan  # two gave no points
    w[7] = [0, 0, 0, 0, 100]  # all on empathy
    return p, e, w


def _reference(p, e, w):
    """Respondent x dimension means of the item ratings, then scoring.weighted_servqual."""
    from scoring import weighted_servqual

    cols = {d: [i for i, x in enumerate(ITEM_DIMS) if x == d] for d in DIMS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nanmean of a respondent's unrated dimension
        dim_p = np.column_stack([np.nanmean(p[:, cols[d]], axis=1) for d in DIMS])
        dim_e = np.column_stack([np.nanmean(e[:, cols[d]], axis=1) for d in DIMS])
    return weighted_servqual(dim_p, dim_e, w, DIMS)


def test_service_matches_the_raw_matrices(db_session, org, catalog, period_args, answers):
    p, e, w = answers
    _facts(db_session, org["R1"]["region"], catalog["DESK"], p, e, w)
    got = servqual_weighting(db_session, parse_filters(db_session, period_args, None, today=MONDAY))
    ref = _reference(p, e, w)
    assert got is not None and got.left_out == ref.left_out == 2
    assert got.weighted.n == ref.weighted.n == 34
    assert got.weighted.gap.estimate == pytest.approx(ref.weighted.gap, abs=1e-12)
    assert (got.weighted.gap.ci_low, got.weighted.gap.ci_high) == pytest.approx(
        (ref.weighted.ci_low, ref.weighted.ci_high), abs=1e-12
    )
    assert got.unweighted.gap.estimate == pytest.approx(ref.unweighted.gap, abs=1e-12)
    assert [d.dimension for d in got.weights] == DIMS
    assert [d.points for d in got.weights] == pytest.approx([d.points for d in ref.weights])
    # Respondent 8 put every point on empathy: the weighted score is that respondent's empathy gap.
    assert got.weighted.gap.estimate != pytest.approx(got.unweighted.gap.estimate)


def test_page_shows_weighted_beside_unweighted(login_as, db_session, org, catalog, answers):
    p, e, w = answers
    _facts(db_session, org["R1"]["region"], catalog["DESK"], p, e, w)
    ref = _reference(p, e, w)
    c = login_as("analyst")
    html = c.get(f"/analysis/experience?{PERIOD}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Weighted by the importance respondents gave" in html and "Weights not asked" not in html
    table = html[html.index('id="servqual-weighted"') : html.index('id="servqual-importance"')]
    assert f"<strong>{ref.weighted.gap:.2f}</strong>" in table and "n=34" in table
    assert f"{ref.weighted.ci_low:.2f}–{ref.weighted.ci_high:.2f}" in table
    assert f"<strong>{ref.unweighted.gap:.2f}</strong>" in table
    weights = html[html.index('id="servqual-importance"') :]
    assert "Reliability" in weights and f"<strong>{ref.weights[1].points:.1f}</strong>" in weights
    assert "2 left out" in html
    zh = c.get(f"/analysis/experience?{PERIOD}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "按受访者给出的重要程度加权" in zh and "可靠性" in zh and "共 2 人未计入" in zh


def test_page_says_weights_not_asked(login_as, db_session, org, catalog, answers):
    p, e, w = answers
    _facts(db_session, org["R1"]["region"], catalog["DESK"], p, e, np.full_like(w, np.nan))
    c = login_as("analyst")
    html = c.get(f"/analysis/experience?{PERIOD}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'id="servqual-weights-not-asked"' in html and 'id="servqual-weighted"' not in html
    zh = c.get(f"/analysis/experience?{PERIOD}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "未询问权重" in zh
    api = c.get(f"/api/v1/analysis/experience?{PERIOD}", headers=_bearer(db_session, c)).get_json()
    assert api["servqual_weighting"] is None and api["servqual"]


def test_api_gives_the_weighted_gap(login_as, db_session, org, catalog, answers):
    p, e, w = answers
    _facts(db_session, org["R1"]["region"], catalog["DESK"], p, e, w)
    c = login_as("analyst")
    body = c.get(f"/api/v1/analysis/experience?{PERIOD}", headers=_bearer(db_session, c)).get_json()
    sw = body["servqual_weighting"]
    assert sw["weighted"]["n"] == 34 and sw["left_out"] == 2
    assert sw["weighted"]["gap"]["estimate"] == pytest.approx(_reference(p, e, w).weighted.gap)
    assert [d["dimension"] for d in sw["weights"]] == DIMS
