"""Follow-ups routed like work (issue 17): a low score's task gets an owner by the region's rules,
the owner gets a mail, an overdue task escalates once to the organiser and the system owner, and
the list marks it overdue with its owner."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from perception.surveys.jobs import route_followups
from perception.surveys.models import FollowUpTask


def _low_score_task(client, make_campaign, invite, post_page, db_session):
    campaign = make_campaign()
    token = invite(campaign)["r1@example.com"]
    client.get(f"/s/t/{token}")
    post_page(client, "/s/r", {"csat": "1", "low_reasons": ["not_fixed"], "improve": "没有解决"})
    return db_session.scalar(select(FollowUpTask))


def test_a_new_task_goes_to_the_region_lead_who_is_told(
    client, db_session, org, make_campaign, invite, post_page, make_user, mailbox
):
    lead = make_user("lead.bj", "collector", region="R1", email="lead@example.com", language="zh_CN")
    org["R1"]["point"].lead_id = lead.id
    db_session.flush()
    task = _low_score_task(client, make_campaign, invite, post_page, db_session)
    # Once nobody was assigned or told; now the answer's commit assigns the task and mails at once.
    assert task.assignee_id == lead.id and task.assigned_at is not None
    (mail,) = mailbox.new()
    assert mail["To"] == "lead@example.com" and "请跟进低分反馈（北京" in mail["Subject"]
    assert f"/surveys/followups/{task.id}" in mail.get_content()
    assert route_followups(db_session, now=datetime.utcnow()) == 0  # assigned once


def test_an_overdue_task_escalates_once_and_shows_as_overdue(
    client, db_session, org, make_campaign, invite, post_page, make_user, mailbox, login_as
):
    organiser = make_user("org.bj", "organiser", region="R1", email="org@example.com", language="en")
    boss = make_user("boss", "system_owner", email="boss@example.com", language="en")
    org["R1"]["point"].organiser_id = organiser.id
    db_session.flush()
    task = _low_score_task(client, make_campaign, invite, post_page, db_session)
    assert task.assignee_id == organiser.id  # no lead: the organiser owns it
    mailbox.new()
    later = datetime.combine(task.due_on + timedelta(days=1), datetime.min.time()) + timedelta(hours=8)
    assert route_followups(db_session, now=later) == 2
    db_session.commit()
    recipients = sorted(m["To"] for m in mailbox.new())
    assert recipients == ["boss@example.com", "org@example.com"] and task.escalated_at == later
    assert route_followups(db_session, now=later + timedelta(days=1)) == 0  # escalated once
    assert boss.id != organiser.id
    collector = login_as("collector", region="R1", language="en")
    task.due_on = datetime.utcnow().date() - timedelta(days=2)  # overdue as the page sees today
    db_session.commit()
    row = collector.get("/surveys/followups").get_data(as_text=True).split(f"#{task.id}</a>", 1)[1]
    row = row.split("</tr>", 1)[0]
    assert 'class="badge bad">Overdue' in row and organiser.display_name in row


def test_a_region_nobody_leads_escalates_to_the_system_owner_at_once(
    client, db_session, org, make_campaign, invite, post_page, make_user, mailbox
):
    make_user("boss", "system_owner", email="boss@example.com", language="en")
    task = _low_score_task(client, make_campaign, invite, post_page, db_session)
    (mail,) = mailbox.new()  # told when the answer committed
    assert route_followups(db_session, now=datetime.utcnow()) == 0
    assert mail["To"] == "boss@example.com" and task.assignee_id is None and task.escalated_at is not None
