"""Issue 14, proposing a standard with no history to replay: the five-principle check says its
feasibility is unproven (``feasible_no_history``), and ``propose`` once let it through silently. Now
the proposer must accept it explicitly (``accept_without_history``), the acceptance is in the audit
log and the trail, and the representative sees "feasibility unproven: no history" on the standard,
in the portal and in the mail."""

from __future__ import annotations

import email
from pathlib import Path

from sqlalchemy import select

from perception.core.models.audit import AuditEntry
from perception.core.users import issue_token
from perception.setup.models.standards import VersionStatus
from perception.setup.services.confirm import accepted_without_history, confirm_need
from tests.conftest import login, post_form
from tests.setup import setup_fixtures
from tests.setup.setup_fixtures import make_standard, standard_def

world = setup_fixtures.world  # the fixture


def _mails(app) -> set[Path]:
    folder = Path(app.instance_path) / "mail"
    return set(folder.glob("*.eml")) if folder.exists() else set()


def _propose(client, standard, **data):
    version = standard.versions[-1]
    path = f"/setup/standards/{standard.id}/versions/{version.id}/propose"
    return post_form(client, path, data, token_from=f"/setup/standards/{standard.id}", follow_redirects=True)


def test_proposing_without_history_needs_the_acknowledgement_over_http(db_session, world, app):
    world.rep1.email = "rep1@example.com"
    standard = make_standard(db_session, world, standard_def(customer="R1-C"))
    version = standard.versions[0]
    confirm_need(db_session, version, world.rep1)
    owner = app.test_client()
    login(owner, "owner")
    detail = owner.get(f"/setup/standards/{standard.id}").get_data(as_text=True)
    assert 'name="accept_without_history"' in detail  # offered because the check found no history

    refused = _propose(owner, standard).get_data(as_text=True)
    assert "To propose it anyway, tick" in refused and "the confirming sides will see" in refused
    db_session.expire_all()
    assert version.status == VersionStatus.DRAFT
    zh, lang = app.test_client(), {"Accept-Language": "zh-CN"}
    login(zh, "owner")
    path = f"/setup/standards/{standard.id}/versions/{version.id}/propose"
    post_form(zh, path, {}, token_from=f"/setup/standards/{standard.id}", headers=lang)
    zh_page = zh.get(f"/setup/standards/{standard.id}", headers=lang).get_data(as_text=True)
    assert "没有可回放的历史数据" in zh_page and "请勾选“在没有历史数据的情况下提交”" in zh_page

    before = _mails(app)
    assert _propose(owner, standard, accept_without_history="y").status_code == 200
    db_session.expire_all()
    assert version.status == VersionStatus.PROPOSED and accepted_without_history(version)
    audit = select(AuditEntry).where(AuditEntry.action == "standard_proposed_without_history")
    entry = db_session.scalar(audit)
    assert entry is not None and entry.actor_name == "owner" and entry.object_id == str(version.id)
    assert "DESK-P1 v1" in entry.summary

    rep = app.test_client()
    login(rep, "rep1")
    page = rep.get(f"/setup/standards/{standard.id}").get_data(as_text=True)
    assert 'data-testid="feasibility-unproven"' in page
    assert "Feasibility unproven: no history to replay the rule on" in page
    assert "Proposed without history: feasibility unproven" in page  # the trail's event
    portal = rep.get("/portal").get_data(as_text=True)
    assert "Feasibility unproven: no history to replay the rule on" in portal
    (mail,) = [email.message_from_bytes(p.read_bytes()) for p in _mails(app) - before]
    body = mail.get_payload(decode=True).decode()
    assert mail["To"] == "rep1@example.com" and "可行性未经证明：没有可回放的历史数据" in body


def test_api_names_the_missing_acknowledgement(client, db_session, world):
    standard = make_standard(db_session, world, standard_def(customer="R1-C"))
    confirm_need(db_session, standard.versions[0], world.rep1)
    _, secret = issue_token(db_session, world.owner, "t")
    headers = {"Authorization": f"Bearer {secret}"}
    path = f"/api/v1/setup/standards/{standard.id}/propose"
    missing = client.post(path, json={}, headers=headers)
    assert missing.status_code == 422 and missing.mimetype == "application/problem+json"
    (problem,) = missing.get_json()["errors"]
    assert problem["field"] == "accept_without_history"
    assert (
        "No history to replay the rule on" in problem["detail_en"]
        and "没有可回放的历史数据" in problem["detail_zh"]
    )
    wrong = client.post(path, json={"accept_without_history": "yes"}, headers=headers)
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["field"] == "accept_without_history"
    assert standard.versions[0].status == VersionStatus.DRAFT
    done = client.post(path, json={"accept_without_history": True}, headers=headers)
    assert done.status_code == 200 and done.get_json()["status"] == "proposed"
    db_session.expire_all()
    assert accepted_without_history(standard.versions[0])
    assert db_session.scalar(
        select(AuditEntry).where(AuditEntry.action == "standard_proposed_without_history")
    )
