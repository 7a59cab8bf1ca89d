"""Follow-up routing rules (issue 17): a rule maps a region and/or a service to the owner of their
follow-up tasks, the most specific rule wins before the collection point's lead and organiser, the
owner is mailed as soon as the answer that made the task commits, and the organiser or the system
owner keeps the rules on a page (CSRF, scoped to what they see)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import select

from perception.setup.models.catalog import Service, Subscription
from perception.surveys.jobs import route_followups
from perception.surveys.models import FollowUpRoute, FollowUpTask, Response
from perception.surveys.services.followup_routing import owner_for
from tests.conftest import csrf_token

PAGE = "/surveys/followups/routes"


@pytest.fixture
def desk(db_session):
    service = Service(code="DESK", name_zh="桌面运维", name_en="Desktop support")
    db_session.add(service)
    db_session.flush()
    return service


def _rule(db_session, owner, region=None, service=None):
    rule = FollowUpRoute(
        region_id=region.id if region else None, service_id=service.id if service else None, owner_id=owner.id
    )
    db_session.add(rule)
    db_session.flush()
    return rule


def test_the_most_specific_rule_wins_then_the_lead_then_the_organiser(db_session, org, make_user, desk):
    r1 = org["R1"]["region"]
    both = make_user("both", "collector", region="R1", region_id=r1.id)
    regional = make_user("regional", "organiser", region_id=r1.id)
    national = make_user("national", "manager")
    lead = make_user("lead", "collector", region="R1", region_id=r1.id)
    organiser = make_user("organiser1", "organiser")
    org["R1"]["point"].lead_id = lead.id
    org["R1"]["point"].organiser_id = organiser.id
    rules = [
        _rule(db_session, both, r1, desk),
        _rule(db_session, regional, r1),
        _rule(db_session, national, None, desk),
    ]
    # Worked by hand: (region+service) > region > service > lead > organiser.
    assert owner_for(db_session, r1.id, desk.id) is both
    assert owner_for(db_session, r1.id, None) is regional  # no service known: the region's rule
    assert owner_for(db_session, org["R2"]["region"].id, desk.id) is national  # the service everywhere
    assert owner_for(db_session, org["R2"]["region"].id, None) is None  # R2 has no lead or organiser
    both.active = False  # an inactive owner's rule is skipped, not a dead end
    assert owner_for(db_session, r1.id, desk.id) is regional
    db_session.delete(rules[1])
    db_session.flush()
    assert owner_for(db_session, r1.id, desk.id) is national
    db_session.delete(rules[2])
    db_session.flush()
    assert owner_for(db_session, r1.id, desk.id) is lead
    lead.active = False
    assert owner_for(db_session, r1.id, desk.id) is organiser


def test_the_rule_owner_is_mailed_when_the_answer_commits_not_an_hour_later(
    client, db_session, org, make_campaign, invite, post_page, make_user, mailbox, desk
):
    r1 = org["R1"]["region"]
    lead = make_user("lead.bj", "collector", region="R1", region_id=r1.id, email="lead@example.com")
    org["R1"]["point"].lead_id = lead.id
    desk_owner = make_user(
        "desk.bj", "collector", region="R1", region_id=r1.id, email="desk@example.com", language="en"
    )
    _rule(db_session, desk_owner, r1, desk)
    db_session.add(Subscription(customer_id=org["R1"]["customer"].id, service_id=desk.id, region_id=r1.id))
    db_session.flush()
    campaign = make_campaign(service_id=desk.id)
    token = invite(campaign)["r1@example.com"]
    client.get(f"/s/t/{token}")
    mailbox.new()
    post_page(client, "/s/r", {"csat": "1", "low_reasons": ["not_fixed"], "improve": "没有解决"})
    task = db_session.scalar(select(FollowUpTask))
    assert db_session.get(Response, task.response_id).service_id == desk.id
    assert task.assignee_id == desk_owner.id and task.assigned_at is not None  # no job run by the test
    (mail,) = mailbox.new()
    assert mail["To"] == "desk@example.com" and mail["Subject"].startswith(
        "Please follow up a low score (Beijing"
    )
    assert f"/surveys/followups/{task.id}" in mail.get_content()
    assert route_followups(db_session, now=datetime.utcnow()) == 0  # the hourly run tells nobody again
    assert mailbox.new() == []


def test_an_answer_that_needs_no_follow_up_asks_for_no_job(
    client, db_session, org, make_campaign, invite, post_page, mailbox
):
    from perception.core.models.jobs import Job

    campaign = make_campaign()
    token = invite(campaign)["r1@example.com"]
    client.get(f"/s/t/{token}")
    post_page(client, "/s/r", {"csat": "5"})
    assert db_session.scalar(select(FollowUpTask)) is None
    assert db_session.scalars(select(Job).where(Job.name == "assign_followup")).all() == []


def _post(client, data):
    return client.post(PAGE, data={**data, "csrf_token": csrf_token(client, PAGE)})


def test_the_organiser_adds_changes_and_removes_a_rule_on_the_page(
    db_session, org, login_as, make_user, desk
):
    r1 = org["R1"]["region"]
    owner_a = make_user("owner.a", "collector", region="R1", region_id=r1.id)
    owner_b = make_user("owner.b", "organiser", region_id=r1.id)
    organiser = login_as("organiser", language="en")
    page = organiser.get(PAGE).get_data(as_text=True)
    assert "No rules yet" in page and "Every region" in page and "Owner.A" in page
    response = _post(
        organiser, {"region_id": str(r1.id), "service_id": str(desk.id), "owner_id": str(owner_a.id)}
    )
    assert response.status_code == 302
    response = _post(
        organiser, {"region_id": str(r1.id), "service_id": str(desk.id), "owner_id": str(owner_b.id)}
    )
    assert response.status_code == 302  # the same region and service: the rule gets the new owner
    (rule,) = db_session.scalars(select(FollowUpRoute)).all()
    assert (rule.region_id, rule.service_id, rule.owner_id) == (r1.id, desk.id, owner_b.id)
    page = organiser.get(PAGE).get_data(as_text=True)
    assert "Beijing" in page and "DESK Desktop support" in page and "Owner.B" in page
    delete = f"{PAGE}/{rule.id}/delete"
    assert organiser.post(delete, data={}).status_code in (302, 400)  # no CSRF token: nothing removed
    assert db_session.get(FollowUpRoute, rule.id) is not None
    assert organiser.post(delete, data={"csrf_token": csrf_token(organiser, PAGE)}).status_code == 302
    assert db_session.scalars(select(FollowUpRoute)).all() == []


def test_the_page_says_what_is_wrong_in_both_languages(db_session, org, login_as, make_user, desk):
    r1, r2 = org["R1"]["region"], org["R2"]["region"]
    shanghai = make_user("sh.collector", "collector", region="R2", region_id=r2.id)
    for language, nothing, elsewhere in (
        ("en", "Choose a region, a service or both.", "cannot see the tasks of the rule"),
        ("zh_CN", "请选择区域或服务（或两者）", "该用户看不到此规则所涉区域的任务"),
    ):
        client = login_as("organiser", username=f"organiser_{language}", language=language)
        response = _post(client, {"region_id": "", "service_id": "", "owner_id": str(shanghai.id)})
        assert response.status_code == 422 and nothing in response.get_data(as_text=True)
        response = _post(client, {"region_id": str(r1.id), "service_id": "", "owner_id": str(shanghai.id)})
        assert response.status_code == 422 and elsewhere in response.get_data(as_text=True)
        response = _post(client, {"region_id": "x", "service_id": "", "owner_id": "nobody"})
        assert response.status_code == 422  # never a 500
    assert db_session.scalars(select(FollowUpRoute)).all() == []


def test_a_regional_organiser_sees_and_keeps_only_their_regions_rules(
    db_session, org, login_as, make_user, desk
):
    r1, r2 = org["R1"]["region"], org["R2"]["region"]
    sh_owner = make_user("sh.owner", "collector", region="R2", region_id=r2.id)
    bj_owner = make_user("bj.owner", "collector", region="R1", region_id=r1.id)
    theirs = _rule(db_session, sh_owner, r2)
    global_rule = _rule(db_session, make_user("nat", "manager"), None, desk)
    regional = login_as("organiser", username="org.bj", region_id=r1.id, language="en")
    page = regional.get(PAGE).get_data(as_text=True)
    assert "Sh.Owner" not in page and "Every region" not in page and "Shanghai" not in page
    for rule in (theirs, global_rule):
        response = regional.post(f"{PAGE}/{rule.id}/delete", data={"csrf_token": csrf_token(regional, PAGE)})
        assert response.status_code == 404
    response = _post(regional, {"region_id": str(r2.id), "service_id": "", "owner_id": str(bj_owner.id)})
    assert response.status_code == 422 and "your own region only" in response.get_data(as_text=True)
    response = _post(regional, {"region_id": "", "service_id": str(desk.id), "owner_id": str(bj_owner.id)})
    assert response.status_code == 422  # a rule for every region is not theirs to set
    assert len(db_session.scalars(select(FollowUpRoute)).all()) == 2


def test_only_the_organiser_and_the_system_owner_keep_the_rules(login_as):
    for role in ("collector", "manager", "analyst"):
        assert login_as(role).get(PAGE).status_code == 403
    assert login_as("system_owner").get(PAGE).status_code == 200
    assert re.search(
        r"Follow-up routing|跟进分派", login_as("organiser", username="o2").get(PAGE).get_data(as_text=True)
    )
