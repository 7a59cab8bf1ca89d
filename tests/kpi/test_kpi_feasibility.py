"""Issue 14, feasibility (可行性) of a proposed standard: the rule is replayed on the tickets it speaks
of, never judged on the weekly KPI of another limit, and no history never passes.

Eight complete weeks of DESK P2 tickets, 50 a week: 49 resolved within 4 hours (the weekly KPI of
the 4-hour standard in force reads 98 %, 100 % in week 3), 20 within 1 hour (22 in the best week),
one at 8 minutes in two weeks. Observations reproduced: "99 % resolved within 1
hour" was "challenging but reachable" on the 4-hour KPI; "100 % of P2 within 10 minutes" passed with
"fewer than 4 measured periods". Expected figures come from numpy on the generated minutes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest

from perception.core.models.base import utcnow
from perception.kpi.services.compute import compute_kpis
from perception.kpi.services.feasibility import replay_standard
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from perception.setup.services.standards import check_version, measured_history
from tests.kpi.conftest import add_sla, add_standard, csv_bytes, ticket_row

WEEKS = 8


def _week_minutes(week: int) -> list[float]:
    fast = 22 if week == 5 else 20  # within 1 hour
    quick = [8.0] if week in (2, 6) else []  # within 10 minutes
    within_hour = quick + [15.0 + 2 * i for i in range(fast - len(quick))]
    slow = [70.0 + 5 * i for i in range(49 - fast)]  # 1-4 hours
    return within_hour + slow + [215.0 if week == 3 else 300.0 + week]  # one over 4 hours but in week 3


def _first_monday() -> date:
    today = utcnow().date()
    return today - timedelta(days=today.weekday()) - timedelta(weeks=WEEKS)


@pytest.fixture
def history(db_session, catalog):
    first = _first_monday()
    add_standard(
        db_session,
        "DESK-4H",
        catalog["DESK"],
        [
            {
                "metric": "resolution_within_target_share",
                "target": 97,
                "time_limit_minutes": 240,
                "effective_from": first - timedelta(days=60),
                "procedure": "Second line takes over after 2 hours",
            }
        ],
    )
    rows = []
    for week in range(WEEKS):
        monday = datetime.combine(first + timedelta(weeks=week), datetime.min.time())
        for i, minutes in enumerate(_week_minutes(week)):
            # Tue-Thu from 09:00 local time (ticket files carry local times); no SLA: elapsed time.
            opened = monday + timedelta(days=1 + i % 3, hours=9, minutes=i)
            rows.append(
                ticket_row(
                    f"T{week}-{i}",
                    opened=opened.strftime("%Y-%m-%d %H:%M"),
                    first_response=(opened + timedelta(minutes=2)).strftime("%Y-%m-%d %H:%M"),
                    resolved=(opened + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M"),
                    closed="",
                    status="resolved",
                )
            )
    import_tickets(db_session, ImportOptions(dry_run=False), data=csv_bytes(rows))
    compute_kpis(db_session, first, first + timedelta(weeks=WEEKS))
    return catalog


def _proposal(db_session, catalog, code, **content):
    standard = add_standard(
        db_session,
        code,
        catalog["DESK"],
        [{"metric": "resolution_within_target_share", "procedure": "Swarming", "window": "week", **content}],
    )
    return standard.versions[-1]


def test_one_hour_rule_is_judged_on_the_one_hour_share(db_session, history):
    version = _proposal(db_session, history, "DESK-1H", target=99, time_limit_minutes=60)
    result = check_version(version, measured_history(db_session, version)).result("feasible")
    assert not result.passed and result.code == "feasible_unreachable"
    shares = [100.0 * sum(m <= 60 for m in _week_minutes(w)) / 50 for w in range(WEEKS)]
    assert max(shares) == 44.0
    assert "best 44% (n=50" in result.reason_en and "median 40% (n=50" in result.reason_en
    assert "the history supports 44% within 60 min" in result.reason_en
    # 99 % within L: the 50th smallest of 50 in each week is its slowest ticket; the lowest is week 3's.
    supported = min(np.percentile(_week_minutes(w), 99, method="inverted_cdf") for w in range(WEEKS))
    assert supported == 215.0 and "99% within 3.6 h" in result.reason_en
    assert "44%" in result.reason_zh and "历史支持" in result.reason_zh
    replay = replay_standard(db_session, version)
    assert [p.value for p in replay.periods] == shares and all(p.n == 50 for p in replay.periods)
    # The rule as in force (97 % within 4 hours) is feasible on the same tickets.
    in_force = _proposal(db_session, history, "DESK-4H-B", target=97, time_limit_minutes=240)
    assert check_version(in_force, measured_history(db_session, in_force)).result("feasible").passed


def test_p2_ten_minutes_has_history_and_is_unreachable(db_session, history):
    version = _proposal(db_session, history, "DESK-P2-10", target=100, time_limit_minutes=10, priority="P2")
    result = check_version(version, measured_history(db_session, version)).result("feasible")
    assert not result.passed and result.code == "feasible_unreachable"
    assert "8 periods" in result.reason_en and "best 2% (n=50" in result.reason_en
    # Per-ticket form ("resolved within 10 minutes", 100 % required) replays the same way.
    spec = {"metric": "resolution_minutes", "target": 10, "unit": "min", "comparator": "<=", "priority": "P2"}
    per_ticket = _proposal(db_session, history, "DESK-P2-MIN", **spec)
    again = check_version(per_ticket, measured_history(db_session, per_ticket)).result("feasible")
    assert again.code == "feasible_unreachable" and "best 2%" in again.reason_en


def test_no_history_never_passes(db_session, history):
    version = _proposal(db_session, history, "DESK-P1-10", target=100, time_limit_minutes=10, priority="P1")
    result = check_version(version, measured_history(db_session, version)).result("feasible")
    assert not result.passed and result.code == "feasible_no_history"
    assert "No history" in result.reason_en and "P1" in result.reason_en
    net = add_standard(
        db_session,
        "NET-1H",
        history["NET"],
        [
            {
                "metric": "resolution_within_target_share",
                "target": 90,
                "time_limit_minutes": 60,
                "procedure": "x",
            }
        ],
    ).versions[-1]
    assert (
        check_version(net, measured_history(db_session, net)).result("feasible").code == "feasible_no_history"
    )


def test_replay_uses_the_slas_business_calendar(db_session, catalog):
    """A ticket opened Friday 17:30 and resolved Monday 09:30 (Mon-Fri 09:00-18:00) took 60 covered
    minutes, so it is within 1 hour; measured in elapsed time it would not be."""
    add_sla(db_session, "SLA-OFFICE", [catalog["DESK"]])
    monday = _first_monday() + timedelta(weeks=WEEKS - 1)
    friday = datetime.combine(monday - timedelta(days=3), datetime.min.time())
    rows = [
        ticket_row(
            "S-1",
            opened=(friday + timedelta(hours=17, minutes=30)).strftime("%Y-%m-%d %H:%M"),  # local times
            first_response=(friday + timedelta(hours=17, minutes=40)).strftime("%Y-%m-%d %H:%M"),
            resolved=(friday + timedelta(days=3, hours=9, minutes=30)).strftime("%Y-%m-%d %H:%M"),
            closed="",
            status="resolved",
        )
    ]
    import_tickets(db_session, ImportOptions(dry_run=False), data=csv_bytes(rows))
    version = _proposal(db_session, catalog, "DESK-1H", target=90, time_limit_minutes=60)
    replay = replay_standard(db_session, version)
    assert [(p.value, p.n) for p in replay.periods] == [(100.0, 1)]
    assert replay.supported_limit_minutes == pytest.approx(60.0)


def test_form_check_replays_the_rule_in_the_form(db_session, history):
    """The standard form's "check" replays the rule being typed, not the stored version."""
    from types import SimpleNamespace

    from perception.setup.services.standards import proposed_history

    content = SimpleNamespace(
        metric="resolution_within_target_share",
        dimension=None,
        comparator=">=",
        target=99.0,
        unit="%",
        window="week",
        time_limit_minutes=60.0,
        priority=None,
    )
    d = SimpleNamespace(code="NEW-1H", service="DESK", tier=None, customer=None, versions=[content])
    replay = proposed_history(db_session, d)
    assert max(p.value for p in replay.periods) == 44.0 and replay.limit_minutes == 60.0
    assert proposed_history(db_session, SimpleNamespace(**{**d.__dict__, "service": "NOPE"})) is None
