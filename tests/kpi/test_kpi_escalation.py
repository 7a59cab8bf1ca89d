"""Escalation: each rule of the SLA fires once per breach, at covered time limit + rule minutes,
notifies the right people, is audited, and is closed when the ticket recovers.

SLA Mon-Fri 09:00-18:00 Asia/Shanghai with rules: 30 min -> provider project manager; 240 min ->
both sides' regional managers. Standard: P1 response within 60 covered minutes.
Ticket E-1 opened Mon 2026-03-02 09:00 local (01:00 UTC), not answered: target missed at 10:00,
rule 1 due at 10:30, rule 2 due at 14:00 (local).
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from perception.core.jobs import run_now
from perception.core.models.audit import AuditEntry
from perception.kpi.models import Escalation, Ticket
from perception.kpi.services.escalation import check_escalations, mark_recovered
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from tests.kpi.conftest import add_sla, add_standard, csv_bytes, ticket_row


def utc(local: str) -> datetime:
    """A Shanghai wall time as naive UTC (UTC+8, no DST)."""
    moment = datetime.fromisoformat(local)
    return (
        moment.replace(hour=moment.hour - 8)
        if moment.hour >= 8
        else moment.replace(day=moment.day - 1, hour=moment.hour + 16)
    )


@pytest.fixture
def sent(monkeypatch):
    mails: list[tuple[str, str]] = []
    monkeypatch.setattr(
        "perception.core.mail.send_email", lambda to, subject, text, html=None: mails.append((to, subject))
    )
    return mails


@pytest.fixture
def breaching(db_session, catalog, make_user):
    pm = make_user("pm", "manager", email="pm@provider.example")
    catalog["DESK"].owner_id = pm.id
    make_user("rm.r1", "manager", region_id=catalog["R1"]["region"].id, email="rm.r1@provider.example")
    make_user("rm.r2", "manager", region_id=catalog["R2"]["region"].id, email="rm.r2@provider.example")
    make_user("rep", "customer_rep", email="rep@customer.example")
    add_sla(
        db_session,
        "SLA-OFFICE",
        [catalog["DESK"]],
        rules=[
            (30, "provider_project_manager"),
            (240, "provider_regional_manager,customer_regional_manager"),
        ],
    )
    add_standard(
        db_session,
        "DESK-P1",
        catalog["DESK"],
        [
            {
                "metric": "response_within_target_share",
                "target": 95,
                "time_limit_minutes": 60,
                "priority": "P1",
                "effective_from": date(2026, 1, 1),
            },
        ],
    )
    rows = [
        ticket_row(
            "E-1",
            priority="P1",
            opened="2026-03-02 09:00",
            first_response="",
            resolved="",
            closed="",
            status="open",
        ),
        ticket_row(
            "E-2",
            priority="P1",
            opened="2026-03-02 09:00",
            first_response="2026-03-02 09:20",
            resolved="",
            closed="",
            status="in_progress",
        ),  # answered in time: never escalates
        ticket_row(
            "E-3",
            priority="P3",
            opened="2026-03-02 09:00",
            first_response="",
            resolved="",
            closed="",
            status="open",
        ),  # no standard for P3
    ]
    import_tickets(db_session, ImportOptions(dry_run=False), data=csv_bytes(rows))
    return catalog


def test_nothing_before_the_rule_is_due(db_session, breaching, sent):
    assert check_escalations(db_session, utc("2026-03-02 10:29")) == []
    assert sent == []


def test_each_rule_fires_exactly_once(db_session, breaching, sent):
    first = check_escalations(db_session, utc("2026-03-02 10:31"))
    assert [(f.breach, f.recipients) for f in first] == [("response", ("pm@provider.example",))]
    assert check_escalations(db_session, utc("2026-03-02 10:45")) == []  # already fired
    assert run_now(db_session, "check_escalations", now=utc("2026-03-02 13:59").isoformat()) == 0
    second = check_escalations(db_session, utc("2026-03-02 14:01"))
    assert [f.recipients for f in second] == [("rep@customer.example", "rm.r1@provider.example")]
    assert check_escalations(db_session, utc("2026-03-03 09:00")) == []
    rows = db_session.scalars(select(Escalation).order_by(Escalation.id)).all()
    assert len(rows) == 2
    assert rows[0].breached_at == utc("2026-03-02 10:00") and rows[0].due_at == utc("2026-03-02 10:30")
    assert rows[1].due_at == utc("2026-03-02 14:00")
    assert [to for to, _ in sent] == ["pm@provider.example", "rep@customer.example", "rm.r1@provider.example"]
    audit = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "escalate").order_by(AuditEntry.id)
    ).all()
    assert len(audit) == 2 and "E-1 response breach" in audit[0].summary


def test_covered_time_overnight(db_session, catalog, sent):
    add_sla(db_session, "SLA-OFFICE", [catalog["DESK"]], rules=[(30, "ops@provider.example")])
    add_standard(
        db_session,
        "DESK-P2",
        catalog["DESK"],
        [
            {
                "metric": "first_response_minutes",
                "comparator": "<=",
                "target": 60,
                "unit": "min",
                "priority": "P2",
                "effective_from": date(2026, 1, 1),
            },
        ],
    )
    row = ticket_row(
        "N-1", opened="2026-03-02 17:30", first_response="", resolved="", closed="", status="open"
    )
    import_tickets(db_session, ImportOptions(dry_run=False), data=csv_bytes([row]))
    assert check_escalations(db_session, utc("2026-03-02 23:00")) == []  # only 30 covered minutes so far
    assert check_escalations(db_session, utc("2026-03-03 09:59")) == []
    (fired,) = check_escalations(db_session, utc("2026-03-03 10:01"))
    escalation = db_session.get(Escalation, fired.escalation_id)
    assert escalation.breached_at == utc("2026-03-03 09:30")  # 30 min on Monday + 30 on Tuesday


def test_recovery_closes_the_escalation(db_session, breaching, sent):
    check_escalations(db_session, utc("2026-03-02 10:31"))
    ticket = db_session.scalar(select(Ticket).where(Ticket.external_id == "E-1"))
    ticket.first_response_at = utc("2026-03-02 10:40")
    db_session.flush()
    assert mark_recovered(db_session, utc("2026-03-02 10:50")) == 1
    assert check_escalations(db_session, utc("2026-03-02 14:01")) == []  # recovered: no further rule
    assert db_session.scalar(select(Escalation)).recovered_at == utc("2026-03-02 10:40")
