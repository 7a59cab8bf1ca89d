"""A post-ticket survey names the ticket it asks about and its service, in the invitation mail and
on the survey page, in the respondent's language and the organisation's local day (issue 17,
"Follow-ups routed like work"). The page stays one cached rendering per version and language: each
respondent's own ticket is put in per request, escaped, and a relationship invitee of the same
version (or an anonymous respondent) sees none."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from perception.core.models.base import utcnow
from perception.core.models.org import Contact
from perception.kpi.models import Ticket
from perception.surveys.models import Invitation


@pytest.fixture
def desk(db_session: Any) -> Any:
    from perception.setup.models.catalog import Service

    service = Service(code="DESK", name_zh="服务台 & 桌面", name_en="Service desk & desktop")
    db_session.add(service)
    db_session.flush()
    return service


def closed_ticket(db_session: Any, org: Any, desk: Any, ref: str, contact: str, closed_at: datetime) -> Any:
    ticket = Ticket(
        external_id=ref, service_id=desk.id, region_id=org["R1"]["region"].id,
        customer_id=org["R1"]["customer"].id, priority="P3", contact=contact,
        opened_at=closed_at - timedelta(hours=3), resolved_at=closed_at, closed_at=closed_at, status="closed",
    )  # fmt: skip
    db_session.add(ticket)
    db_session.flush()
    return ticket


def add_contact(db_session: Any, org: Any, email: str, language: str) -> Any:
    person = Contact(customer_id=org["R1"]["customer"].id, region_id=org["R1"]["region"].id,
                     name=email.split("@")[0], email=email, language=language)  # fmt: skip
    db_session.add(person)
    db_session.flush()
    return person


def invite_ticket(db_session: Any, mailbox: Any, ticket: Any) -> dict[str, Any]:
    from perception.surveys.jobs import invite_for_closed_ticket

    assert invite_for_closed_ticket(db_session, ticket_ids=[ticket.id]) == 1
    messages = mailbox.new()
    assert len(messages) == 1
    return {"to": str(messages[0]["To"]), "text": messages[0].get_content(),
            "token": mailbox.tokens_for(str(messages[0]["To"]), messages)[0]}  # fmt: skip


def page(client: Any, token: str, lang: str) -> str:
    client.get(f"/s/t/{token}", headers={"Accept-Language": lang})
    answer = client.get("/s/r", headers={"Accept-Language": lang})
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_the_mail_and_the_page_name_the_ticket_its_service_and_the_local_day(
    app: Any, client: Any, db_session: Any, org: Any, desk: Any, make_campaign: Any, mailbox: Any
) -> None:
    make_campaign(
        "csat_transactional", kind="transactional", region=None, opens_at=utcnow() - timedelta(days=3)
    )
    add_contact(db_session, org, "zh.person@example.com", "zh_CN")
    add_contact(db_session, org, "en.person@example.com", "en")
    # 17:30 UTC is 01:30 the next day in Asia/Shanghai: the day named is the local one.
    closed = utcnow().replace(hour=17, minute=30, second=0, microsecond=0)
    if closed > utcnow():
        closed -= timedelta(days=1)
    local_day = (closed + timedelta(hours=8)).date().isoformat()
    zh = invite_ticket(
        db_session,
        mailbox,
        closed_ticket(db_session, org, desk, "INC0012345", "zh.person@example.com", closed),
    )
    assert zh["to"] == "zh.person@example.com"
    assert f"关于工单 INC0012345（服务台 & 桌面，{local_day} 关闭）" in zh["text"]
    en = invite_ticket(
        db_session,
        mailbox,
        closed_ticket(db_session, org, desk, "INC0012346", "en.person@example.com", closed),
    )
    assert f"About ticket INC0012346, Service desk & desktop, closed {local_day}" in en["text"]

    html = page(client, zh["token"], "zh-CN")
    assert f'<p class="survey-about">关于工单 INC0012345（服务台 &amp; 桌面，{local_day} 关闭）</p>' in html
    html = page(client, zh["token"], "en")
    assert (
        f'<p class="survey-about">About ticket INC0012345, Service desk &amp; desktop, closed {local_day}</p>'
        in html
    )
    other = app.test_client()
    html = page(other, en["token"], "en")
    assert "INC0012346" in html and "INC0012345" not in html


def test_each_respondent_sees_their_own_ticket_escaped_and_others_none(
    app: Any, client: Any, db_session: Any, org: Any, desk: Any, make_campaign: Any, mailbox: Any, invite: Any
) -> None:
    tx = make_campaign("csat_transactional", kind="transactional", region=None)
    add_contact(db_session, org, "a@example.com", "en")
    add_contact(db_session, org, "b@example.com", "en")
    now = utcnow() - timedelta(minutes=5)
    a = invite_ticket(
        db_session, mailbox, closed_ticket(db_session, org, desk, "INC<b>1</b>", "a@example.com", now)
    )
    b = invite_ticket(
        db_session, mailbox, closed_ticket(db_session, org, desk, "INC0000002", "b@example.com", now)
    )
    first = page(app.test_client(), a["token"], "en")
    assert "About ticket INC&lt;b&gt;1&lt;/b&gt;, Service desk &amp; desktop" in first
    assert "<b>1</b>" not in first
    second = page(app.test_client(), b["token"], "en")
    assert "INC0000002" in second and "INC&lt;b&gt;" not in second
    # A relationship campaign on the same version: the same cached page, no ticket line.
    rel = make_campaign("csat_transactional", region="R1")
    tokens = invite(rel)
    plain = page(app.test_client(), tokens["r1@example.com"], "en")
    assert 'class="survey-about"' not in plain and "About ticket" not in plain
    assert db_session.scalar(select(Invitation.ticket_id).where(Invitation.campaign_id == rel.id)) is None
    assert tx.id != rel.id


def test_a_page_shown_again_with_errors_keeps_the_ticket_line(
    app: Any, db_session: Any, org: Any, desk: Any, make_campaign: Any, mailbox: Any, post_page: Any
) -> None:
    make_campaign("csat_transactional", kind="transactional", region=None)
    add_contact(db_session, org, "c@example.com", "en")
    sent = invite_ticket(
        db_session, mailbox, closed_ticket(db_session, org, desk, "INC0000003", "c@example.com", utcnow())
    )
    browser = app.test_client()
    html = page(browser, sent["token"], "en")
    again = post_page(browser, "/s/r", {"csat": "9"}, html=html)  # outside the scale
    assert again.status_code == 422
    assert "About ticket INC0000003, Service desk &amp; desktop" in again.get_data(as_text=True)


def test_an_anonymous_page_names_no_ticket(app: Any, db_session: Any, org: Any, make_campaign: Any) -> None:
    campaign = make_campaign("csat_transactional", channel="anonymous")
    html = app.test_client().get(f"/s/a/{campaign.public_slug}", headers={"Accept-Language": "en"})
    assert html.status_code == 200 and 'class="survey-about"' not in html.get_data(as_text=True)


def test_the_ticket_line_costs_one_statement_and_only_on_a_post_ticket_page(
    app: Any, db_session: Any, org: Any, desk: Any, make_campaign: Any, mailbox: Any, invite: Any
) -> None:
    from sqlalchemy import event

    from perception.core.extensions import db

    make_campaign("csat_transactional", kind="transactional", region=None)
    add_contact(db_session, org, "d@example.com", "en")
    post_ticket = invite_ticket(
        db_session, mailbox, closed_ticket(db_session, org, desk, "INC0000004", "d@example.com", utcnow())
    )
    relationship = invite(make_campaign("csat_transactional", region="R2"))["r2@example.com"]

    def statements(token: str) -> int:
        browser = app.test_client()
        browser.get(f"/s/t/{token}")
        browser.get("/s/r")  # warm the page cache and the parsed version
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert browser.get("/s/r").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len([s for s in seen if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))])

    counts = statements(post_ticket["token"]), statements(relationship)
    assert counts[1] > 0 and counts[0] == counts[1] + 1, counts
