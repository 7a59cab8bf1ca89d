"""SLAs: the mapping to scoring.calendar.BusinessCalendar (covered hours, time zone, customer
holidays) with hand-worked arithmetic across a weekend and a holiday; which SLA covers a service
for a customer; escalation deadlines; the SLA form's row-level validation."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from perception.setup.models.standards import Sla
from perception.setup.services.agreements import save_sla
from perception.setup.services.errors import Problems, SetupError
from perception.setup.services.schema import read_sla
from perception.setup.services.sla import calendar_for_sla, escalation_deadlines, olas_for, sla_for
from scoring.calendar import business_seconds
from tests.conftest import login, post_form
from tests.setup import setup_fixtures

world = setup_fixtures.world  # the fixture


def _sla(session, **entry):
    base = {
        "code": "SLA-STD",
        "name_zh": "标准协议",
        "name_en": "Standard SLA",
        "services": ["DESK"],
        "covered_hours": "mon-fri 09:00-18:00",
        "timezone": "Asia/Shanghai",
        "holidays": [{"date": "2026-10-05", "name": "National Day"}],
        "escalations": [
            {
                "after_minutes": 240,
                "notify_roles": ["provider_regional_manager", "customer_regional_manager"],
            },
            {"after_minutes": 30, "notify_roles": ["provider_project_manager"]},
        ],
    }
    p = Problems()
    d = read_sla(base | entry, "", p)
    p.raise_if_any()
    return save_sla(session, d)


def test_calendar_across_a_weekend_and_a_holiday(db_session, world):
    sla = _sla(db_session)
    cal = calendar_for_sla(sla)
    assert cal.tz == "Asia/Shanghai" and date(2026, 10, 5) in cal.holidays
    # Friday 2 Oct 2026 17:00 Shanghai (09:00 UTC) to Tuesday 6 Oct 10:00 Shanghai (02:00 UTC).
    # Hand count: Fri 17:00-18:00 = 1 h; Sat, Sun = 0; Mon 5 Oct is the customer's holiday = 0;
    # Tue 09:00-10:00 = 1 h. Total 2 h = 7200 s.
    start, end = datetime(2026, 10, 2, 9, 0), datetime(2026, 10, 6, 2, 0)
    assert business_seconds(cal, start, end) == 7200
    # Without the holiday the Monday's 9 hours would count too.
    sla_no_holiday = _sla(db_session, code="SLA-2", holidays=[])
    assert business_seconds(calendar_for_sla(sla_no_holiday), start, end) == 7200 + 9 * 3600


def test_escalation_deadlines_run_on_covered_time(db_session, world):
    sla = _sla(db_session)
    assert [r.after_minutes for r in sla.escalations] == [30, 240], "ordered by time"
    # A breach at Friday 2 Oct 17:45 Shanghai (09:45 UTC): 15 covered minutes remain on Friday,
    # the weekend and Monday's holiday are skipped, so 30 min ends Tue 09:15 local (01:15 UTC)
    # and 240 min ends Tue 12:45 local (04:45 UTC).
    deadlines = escalation_deadlines(sla, datetime(2026, 10, 2, 9, 45))
    assert [when for _rule, when in deadlines] == [datetime(2026, 10, 6, 1, 15), datetime(2026, 10, 6, 4, 45)]
    assert deadlines[1][0].roles == ["provider_regional_manager", "customer_regional_manager"]


def test_twenty_four_seven(db_session, world):
    sla = _sla(db_session, covered_hours="24x7", holidays=[])
    assert business_seconds(calendar_for_sla(sla), datetime(2026, 10, 2, 9), datetime(2026, 10, 6, 2)) == (
        3 * 86400 + 17 * 3600
    )


def test_sla_for_picks_the_most_specific(db_session, world):
    general = _sla(db_session, code="GEN")
    gold = _sla(db_session, code="GOLD", tier="GOLD", covered_hours="24x7")
    own = _sla(db_session, code="OWN", customer="R1-C", effective_from="2026-06-01")
    r1, r2 = world.org["R1"]["customer"].id, world.org["R2"]["customer"].id
    sid = world.service.id
    assert sla_for(db_session, sid, r1, date(2026, 7, 1)) is own
    assert sla_for(db_session, sid, r1, date(2026, 5, 1)) is gold, "the customer SLA is not yet effective"
    assert sla_for(db_session, sid, r2, date(2026, 7, 1)) is general, "R2-C is not on the GOLD tier"
    assert sla_for(db_session, sid, None, date(2026, 7, 1)) is general
    ola = _sla(db_session, code="OLA-L2", kind="ola", supports="GOLD", services=[])
    assert olas_for(db_session, gold.id) == [ola]
    assert sla_for(db_session, sid, r2, date(2026, 7, 1)) is general, "an OLA never answers for a customer"


def test_sla_validation_names_paths(db_session, world):
    with pytest.raises(SetupError) as err:
        _sla(
            db_session,
            covered_hours="mon-fri 9-18",
            holidays=[{"date": "2026-13-01"}],
            escalations=[{"after_minutes": 30}],
            services=["NOPE"],
        )
    paths = {p.field for p in err.value.problems}
    assert {"covered_hours", "holidays[0].date", "escalations[0].notify_roles"} <= paths
    with pytest.raises(SetupError) as err:
        _sla(db_session, services=["NOPE"])
    assert [p.field for p in err.value.problems] == ["services[0]"]
    assert db_session.query(Sla).count() == 0


def test_sla_form_shows_line_numbers_and_saves(db_session, world, app):
    c = app.test_client()
    login(c, "owner")
    data = {
        "code": "SLA-WEB",
        "kind": "sla",
        "name_zh": "网页协议",
        "name_en": "Web SLA",
        "services": ["DESK"],
        "covered_hours": "mon-fri 09:00-18:00",
        "timezone": "Asia/Shanghai",
        "active": "y",
        "holidays": "2026-10-01 National Day\n2026-10-32 Bad",
        "escalations": "30 | provider_project_manager | pm@example.com | 通知项目经理 | Notify the PM",
        "reports": "monthly | project_managers | 月报 | Monthly report",
        "promises": "5 分钟内回电 | Call back within 5 minutes | 5 | phone",
    }
    response = post_form(c, "/setup/slas/new", data, token_from="/setup/slas/new")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Line 2:" in html and "2026-10-32" in html
    assert db_session.query(Sla).count() == 0
    data["holidays"] = "2026-10-01 National Day\n2026-10-02 National Day"
    response = post_form(c, "/setup/slas/new", data, token_from="/setup/slas/new")
    assert response.status_code == 302
    sla = db_session.query(Sla).one()
    assert [h.day for h in sla.holidays] == [date(2026, 10, 1), date(2026, 10, 2)]
    assert sla.escalations[0].emails == ["pm@example.com"] and sla.promises[0].within_minutes == 5
    detail = c.get(f"/setup/slas/{sla.id}").get_data(as_text=True)
    assert "Provider&#39;s project manager" in detail and "2026-10-02" in detail  # the role in words
    edit = c.get(f"/setup/slas/{sla.id}/edit").get_data(as_text=True)
    assert "30 | provider_project_manager | pm@example.com" in edit


def test_the_chooser_picks_what_sla_for_picks_on_every_day(db_session, world):
    """SlaChooser (a batch of tickets: many pairs, many days, two queries) and slas_for against sla_for day by
    day across every boundary: a customer SLA starting, a general one ending and its successor,
    a tier SLA, an inactive SLA, an OLA; customers on and off the tier and no customer. Each
    SLA's calendar is built once and is calendar_for_sla's."""
    from datetime import timedelta

    from sqlalchemy import event

    from perception.setup.services import sla as sla_service
    from perception.setup.services.sla import SlaChooser, slas_for

    _sla(db_session, code="GEN-OLD", effective_to="2026-06-15")
    _sla(db_session, code="GEN-NEW", effective_from="2026-06-15", covered_hours="mon-sat 08:00-20:00")
    _sla(db_session, code="GOLD", tier="GOLD", covered_hours="24x7", effective_from="2026-05-20")
    _sla(db_session, code="OWN", customer="R1-C", effective_from="2026-06-01", effective_to="2026-07-01")
    off = _sla(db_session, code="OFF", customer="R2-C")
    off.active = False
    _sla(db_session, code="OLA-L2", kind="ola", supports="GOLD", services=[])
    db_session.flush()
    sid = world.service.id
    pairs = [(sid, world.org["R1"]["customer"].id), (sid, world.org["R2"]["customer"].id), (sid, None)]
    days = [date(2026, 5, 1) + timedelta(days=d) for d in range(90)]

    statements: list[str] = []
    engine = db_session.get_bind()
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    try:
        chooser = SlaChooser(db_session, pairs)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert len(statements) <= 5  # tiers, SLAs, holidays, make-up days, escalations: not per day

    built: list[int] = []
    real = sla_service.calendar_for_sla

    def counted(sla):
        built.append(sla.id)
        return real(sla)

    sla_service.calendar_for_sla = counted
    try:
        chosen = set()
        for service, customer in pairs:
            for day in days:
                expected = sla_for(db_session, service, customer, day)
                assert chooser.sla_for(service, customer, day) is expected, (customer, day)
                calendar = chooser.calendar_for(service, customer, day)
                assert (calendar is None) == (expected is None)
                if expected is not None:
                    assert calendar == real(expected)
                    chosen.add(expected.code)
    finally:
        sla_service.calendar_for_sla = real
    assert chosen == {"GEN-OLD", "GEN-NEW", "GOLD", "OWN"}
    for day in days[::7]:  # slas_for: the same choice from the SLAs of that day alone
        assert slas_for(db_session, pairs, day) == {pair: sla_for(db_session, *pair, day) for pair in pairs}
    assert sorted(built) == sorted(set(built))  # once per SLA
