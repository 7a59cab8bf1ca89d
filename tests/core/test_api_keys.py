"""API keys apart from users (issue 16): a key scoped to one region reads that region only and
cannot write; roles narrow and never widen; a revoked key gets 401; every use is audited; the
system owner manages keys in the UI and the CLI."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from perception.core.models.audit import AuditEntry
from perception.core.models.auth import ApiToken
from perception.core.users import AccountError, issue_token, revoke_token
from tests.conftest import post_form


def _h(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_a_region_scoped_read_only_key_reads_that_region_only_and_cannot_write(
    client, db_session, org, make_user
):
    owner = make_user("boss", "system_owner")
    assert owner.region_id is None  # sees every region; the key narrows it to one
    r1 = org["R1"]["region"].id
    _, secret = issue_token(db_session, owner, "bi-r1", region_id=r1, read_only=True)
    _, full = issue_token(db_session, owner, "full")
    db_session.commit()
    everything = {c["id"] for c in client.get("/api/v1/customers", headers=_h(full)).get_json()["items"]}
    scoped = {c["id"] for c in client.get("/api/v1/customers", headers=_h(secret)).get_json()["items"]}
    assert scoped == {org["R1"]["customer"].id} and everything >= {
        org["R1"]["customer"].id,
        org["R2"]["customer"].id,
    }
    assert client.get(f"/api/v1/regions/{org['R2']['region'].id}", headers=_h(secret)).status_code == 404
    write = client.post("/api/v1/setup/import?dry_run=1", json={"format": 1}, headers=_h(secret))
    assert write.status_code == 403 and write.mimetype == "application/problem+json"
    assert (
        client.post("/api/v1/setup/import?dry_run=1", json={"format": 1}, headers=_h(full)).status_code != 403
    )


def test_roles_narrow_and_never_widen(client, db_session, make_user):
    both = make_user("both", "system_owner", "analyst")
    _, analyst_only = issue_token(db_session, both, "analyst", roles=["analyst"])
    db_session.commit()
    assert client.get("/api/v1/audit", headers=_h(analyst_only)).status_code == 403
    with pytest.raises(AccountError) as err:
        issue_token(db_session, make_user("a", "analyst"), "wider", roles=["system_owner"])
    assert err.value.problems[0].field == "roles"


def test_a_revoked_key_gets_401_and_every_use_is_audited(client, db_session, make_user):
    owner = make_user("boss", "system_owner")
    token, secret = issue_token(db_session, owner, "ci")
    db_session.commit()
    before = db_session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "api_key_used")
    )
    for _ in range(3):
        assert client.get("/api/v1/regions", headers=_h(secret)).status_code == 200
    used = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "api_key_used").order_by(AuditEntry.id)
    ).all()
    assert len(used) - before == 3 and str(used[-1].object_id) == str(token.id)
    assert used[-1].summary == "GET /api/v1/regions"
    revoke_token(db_session, token)
    db_session.commit()
    assert client.get("/api/v1/regions", headers=_h(secret)).status_code == 401


def test_the_owner_issues_and_revokes_a_scoped_key_in_the_ui(login_as, db_session, org, make_user):
    owner = login_as("system_owner", language="en")
    analyst = make_user("ana", "analyst", "manager")
    db_session.commit()
    page = owner.get("/admin/keys")
    assert page.status_code == 200 and "New API key" in page.get_data(as_text=True)
    issued = post_form(
        owner, "/admin/keys",
        {"user_id": str(analyst.id), "name": "power-bi", "roles": ["analyst"],
         "region_id": str(org["R1"]["region"].id), "customer_id": "0", "read_only": "y", "days": "30"},
        token_from="/admin/keys",
    )  # fmt: skip
    html = issued.get_data(as_text=True)
    assert issued.status_code == 200 and "shown only once" in html
    secret = re.search(r'<code class="secret">([^<]+)</code>', html).group(1)
    key = db_session.scalar(select(ApiToken).where(ApiToken.name == "power-bi"))
    assert (key.scope_roles, key.scope_region_id, key.read_only) == ("analyst", org["R1"]["region"].id, True)
    assert owner.get("/api/v1/regions", headers=_h(secret)).status_code == 200
    post_form(owner, f"/admin/keys/{key.id}/revoke", {}, token_from="/admin/keys")
    db_session.refresh(key)
    assert key.revoked_at is not None
    wider = post_form(
        owner, "/admin/keys",
        {"user_id": str(analyst.id), "name": "x", "roles": ["system_owner"], "days": "1"},
        token_from="/admin/keys",
    )  # fmt: skip
    assert wider.status_code == 422 and "does not hold" in wider.get_data(as_text=True)
    assert login_as("analyst").get("/admin/keys").status_code == 403


def test_the_cli_issues_a_scoped_key(app, db_session, org, make_user):
    make_user("ana", "analyst")
    db_session.commit()
    runner = app.test_cli_runner()
    out = runner.invoke(
        args=["token", "issue", "ana", "--name", "bi", "--role", "analyst", "--region", "R1", "--read-only"]
    )
    assert out.exit_code == 0, out.output
    key = db_session.scalar(select(ApiToken).where(ApiToken.name == "bi"))
    assert key.read_only and key.scope_region_id == org["R1"]["region"].id
    listed = runner.invoke(args=["token", "list"]).output
    assert "read-only" in listed and "never used" in listed
    bad = runner.invoke(args=["token", "issue", "ana", "--role", "system_owner"])
    assert bad.exit_code != 0 and "does not hold" in bad.output
