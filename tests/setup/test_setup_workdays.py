"""Issue 14: the SLA's business calendar knows make-up working days (调休), stored beside the
holidays, edited on the SLA form, exported and imported with the setup, and used by business-time
computation. Hand-checked on China's October 2025 calendar: National Day and Mid-Autumn, 1-8 October
off; Sunday 28 September and Saturday 11 October worked (State Council notice of November 2024)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from perception.setup.models.standards import Sla
from perception.setup.services.agreements import save_sla, sla_to_def_dict
from perception.setup.services.config import import_document
from perception.setup.services.config_export import export_document
from perception.setup.services.errors import Problems, SetupError
from perception.setup.services.schema import read_sla
from perception.setup.services.sla import calendar_for_sla
from scoring.calendar import business_seconds
from tests.conftest import login, post_form
from tests.setup import setup_fixtures

world = setup_fixtures.world  # the fixture

OCTOBER_2025 = {
    "holidays": [{"date": f"2025-10-0{d}", "name": "国庆节、中秋节"} for d in range(1, 9)],
    "workdays": [{"date": "2025-09-28", "name": "国庆调休"}, {"date": "2025-10-11", "name": "国庆调休"}],
}


def _sla(session, **entry):
    base = {
        "code": "SLA-CN",
        "name_zh": "工作日协议",
        "name_en": "Office-hours SLA",
        "services": ["DESK"],
        "covered_hours": "mon-fri 09:00-18:00",
        "timezone": "Asia/Shanghai",
        **OCTOBER_2025,
    }
    p = Problems()
    d = read_sla(base | entry, "", p)
    p.raise_if_any()
    return save_sla(session, d)


def _utc(y, m, d, h, mi=0):
    """Shanghai wall time as naive UTC (UTC+8, no daylight saving)."""
    return datetime(y, m, d, h - 8, mi) if h >= 8 else datetime(y, m, d - 1, h + 16, mi)


@pytest.mark.parametrize(
    ("start", "end", "hours", "without_workdays"),
    [
        # Fri 10 Oct 17:00 -> Mon 13 Oct 10:00: Fri 1 h + Sat 11 Oct (worked) 9 h + Sun 0 + Mon 1 h.
        ((2025, 10, 10, 17), (2025, 10, 13, 10), 11, 2),
        # Sat 27 Sep 10:00 -> Mon 29 Sep 10:00: Sat 0 + Sun 28 Sep (worked) 9 h + Mon 1 h.
        ((2025, 9, 27, 10), (2025, 9, 29, 10), 10, 1),
        # Tue 30 Sep 17:00 -> Thu 9 Oct 10:00: Tue 1 h + 1-8 Oct off (Sat 4 and Sun 5 too) + Thu 1 h.
        ((2025, 9, 30, 17), (2025, 10, 9, 10), 2, 2),
    ],
)
def test_october_2025_china_calendar(db_session, world, start, end, hours, without_workdays):
    cal = calendar_for_sla(_sla(db_session))
    assert cal.workdays == {date(2025, 9, 28), date(2025, 10, 11)}
    assert business_seconds(cal, _utc(*start), _utc(*end)) == hours * 3600
    plain = calendar_for_sla(_sla(db_session, code="SLA-PLAIN", workdays=[]))
    assert business_seconds(plain, _utc(*start), _utc(*end)) == without_workdays * 3600


def test_workdays_are_validated(db_session, world):
    with pytest.raises(SetupError) as exc:
        _sla(db_session, workdays=[{"date": "2025-10-11"}, {"date": "2025-10-11"}])
    assert "listed twice" in str(exc.value)
    with pytest.raises(SetupError) as exc:
        _sla(db_session, workdays=[{"date": "2025-10-08"}])
    assert "both as a holiday and as a make-up working day" in str(exc.value)


def test_workdays_travel_with_the_setup_export(db_session, world):
    sla = _sla(db_session)
    doc = sla_to_def_dict(db_session, sla)
    assert doc["workdays"] == [
        {"date": "2025-09-28", "name": "国庆调休"},
        {"date": "2025-10-11", "name": "国庆调休"},
    ]
    exported = export_document(db_session)
    entry = next(s for s in exported["slas"] if s["code"] == "SLA-CN")
    assert entry["workdays"] == doc["workdays"]
    entry["workdays"] = [{"date": "2025-10-11", "name": "调休"}]
    result = import_document(db_session, {"slas": [entry]}, sections=("slas",))
    assert result is not None
    db_session.expire_all()
    again = db_session.query(Sla).filter_by(code="SLA-CN").one()
    assert [(w.day, w.name) for w in again.workdays] == [(date(2025, 10, 11), "调休")]


def test_workdays_are_edited_where_holidays_are(db_session, world, app):
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
        "holidays": "2025-10-01 National Day",
        "workdays": "2025-09-28 National Day make-up\n2025-10-11 National Day make-up",
    }
    response = post_form(c, "/setup/slas/new", data, token_from="/setup/slas/new")
    assert response.status_code == 302
    sla = db_session.query(Sla).one()
    assert [w.day for w in sla.workdays] == [date(2025, 9, 28), date(2025, 10, 11)]
    detail = c.get(f"/setup/slas/{sla.id}").get_data(as_text=True)
    assert "Make-up working days" in detail and "2025-10-11" in detail
    edit = c.get(f"/setup/slas/{sla.id}/edit").get_data(as_text=True)
    assert "2025-09-28 | National Day make-up" in edit
    zh = c.get(f"/setup/slas/{sla.id}/edit", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "调休工作日" in zh and "国庆调休" in zh


def test_the_demo_sla_counts_a_ticket_opened_on_a_make_up_sunday(db_session, app):
    """Issue 14: the demo's SLAs listed no make-up working day, so a ticket opened on Sunday 20
    September 2026 (worked for National Day, State Council notice of 4 November 2025) counted no
    business time under the demo's office-hours SLA. Loaded with the demo's own setup, measured by
    the KPI ticket loader: 1.5 h to respond on the make-up Sunday, none on a plain Sunday."""
    from perception.core.demo import DemoContext
    from perception.kpi.models import Ticket
    from perception.kpi.services.ticket_frame import load_frame
    from perception.setup import demo as demo_setup
    from perception.setup import demo_org
    from perception.setup.models.catalog import Subscription

    ctx = DemoContext(weeks=26, today=date(2026, 11, 16))
    demo_org.load(db_session, ctx)
    demo_setup.load(db_session, ctx)
    db_session.flush()
    std = db_session.query(Sla).filter_by(code="SLA-STD").one()
    workdays = {w.day for w in std.workdays}
    assert {date(2025, 9, 28), date(2025, 10, 11), date(2026, 9, 20), date(2026, 10, 10)} <= workdays
    assert date(2026, 10, 8) not in {h.day for h in std.holidays}  # 2026: 1-7 October only
    assert date(2026, 2, 23) in {h.day for h in std.holidays}  # Spring Festival, 15-23 February

    desk = ctx.shared["services"]["DESK"]
    customer = next(c for c in ctx.shared["customers"] if c.code.endswith("HOSP"))  # silver: SLA-STD
    tier = db_session.query(Subscription).filter_by(customer_id=customer.id, service_id=desk.id).one().tier_id
    for day in (20, 13):  # the make-up Sunday, then a plain one
        db_session.add(
            Ticket(
                external_id=f"T-SUN-{day}", kind="incident", service_id=desk.id, region_id=customer.region_id,
                customer_id=customer.id, tier_id=tier, priority="P2", status="closed",
                opened_at=_utc(2026, 9, day, 10), first_response_at=_utc(2026, 9, day, 11, 30),
                resolved_at=_utc(2026, 9, day + 1, 10), closed_at=_utc(2026, 9, day + 1, 11),
            )
        )  # fmt: skip
    db_session.flush()
    frame = load_frame(db_session, date(2026, 9, 7), date(2026, 9, 28), as_of=datetime(2026, 10, 1))
    by_day = {str(day)[-2:]: k for k, day in enumerate(frame.local_day)}
    assert set(frame.sla.tolist()) == {std.id}
    made_up, plain = by_day["20"], by_day["13"]
    assert frame.response_s[made_up] == 1.5 * 3600
    assert frame.resolution_s[made_up] == (8 + 1) * 3600  # Sunday 10:00-18:00, Monday 09:00-10:00
    assert frame.response_s[plain] == 0 and frame.resolution_s[plain] == 3600  # Monday 09:00-10:00
