"""Issue 14, feasibility of an experience standard: the rule is replayed on the experience history it
speaks of (the service's answers, per period of its window), best/median/latest with n; no answers
never pass. Expected shares are counted by hand from the planted answers."""

from __future__ import annotations

import itertools
from datetime import timedelta

from perception.core.models.base import utcnow
from perception.setup.services.standards import check_version, measured_history
from tests.facts import insert_observations
from tests.kpi.conftest import add_standard

# Four complete weeks of 20 CSAT answers: 14, 16, 15, 12 satisfied (4 or 5) -> 70 %, 80 %, 75 %, 60 %.
WEEKS = [14, 16, 15, 12]


def _plant(db_session, org, catalog):
    today = utcnow().date()
    monday = today - timedelta(days=today.weekday()) - timedelta(weeks=len(WEEKS))
    ids = itertools.count(1)
    for week, satisfied in enumerate(WEEKS):
        day = monday + timedelta(weeks=week, days=2)
        answers = [5] * (satisfied - 4) + [4] * 4 + [3] * 3 + [2] * (20 - satisfied - 3)
        insert_observations(db_session, org["R1"]["region"], catalog["DESK"], "csat", answers, day=day,
                            source_ids=ids)  # fmt: skip
    insert_observations(db_session, org["R1"]["region"], catalog["DESK"], "nps", [10, 10, 9, 5],
                        day=monday + timedelta(days=1), source_ids=ids, scale=(0, 10))  # fmt: skip


def _standard(db_session, catalog, code, **spec):
    base = {
        "metric": "csat_share",
        "unit": "ratio",
        "window": "week",
        "procedure": "Call back every unhappy user",
    }
    return add_standard(db_session, code, catalog["DESK"], [base | spec]).versions[-1]


def test_csat_share_standard_replayed_on_the_answers(db_session, org, catalog):
    _plant(db_session, org, catalog)
    high = _standard(db_session, catalog, "DESK-XLA-90", target=0.9)
    result = check_version(high, measured_history(db_session, high)).result("feasible")
    assert not result.passed and result.code == "feasible_unreachable"
    assert "best 0.8 (n=20" in result.reason_en and "latest 0.6 (n=20" in result.reason_en
    assert "median 0.7 (n=20" in result.reason_en and "4 periods" in result.reason_en
    reachable = _standard(db_session, catalog, "DESK-XLA-75", target=75, unit="%")
    ok = check_version(reachable, measured_history(db_session, reachable)).result("feasible")
    assert ok.passed and "best 80% (n=20" in ok.reason_en and "met in 2 of 4 periods" in ok.reason_en
    nps = _standard(db_session, catalog, "DESK-NPS", metric="nps", target=60, unit=None)
    replay = measured_history(db_session, nps)
    assert [(p.value, p.n) for p in replay.periods] == [(50.0, 4)]  # 100 x (3 - 1) / 4


def test_an_experience_standard_without_answers_never_passes(db_session, org, catalog):
    _plant(db_session, org, catalog)
    spec = {"metric": "dimension_rating_mean", "dimension": "training_effect", "target": 4.2, "unit": None}
    dim = _standard(db_session, catalog, "DESK-DIM", **spec)
    result = check_version(dim, measured_history(db_session, dim)).result("feasible")
    assert (
        not result.passed and result.code == "feasible_no_history" and "Training effect" in result.reason_en
    )
    assert "training_effect" not in result.reason_en and "培训效果" in result.reason_zh  # a name, not a code
