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
         "region_ids": [str(org["R1"]["region"].id)], "customer_id": "0", "read_only": "y", "days": "30"},
        token_from="/admin/keys",
    )  # fmt: skip
    html = issued.get_data(as_text=True)
    assert issued.status_code == 200 and "shown only once" in html
    secret = re.search(r'<code class="secret">([^<]+)</code>', html).group(1)
    key = db_session.scalar(select(ApiToken).where(ApiToken.name == "power-bi"))
    assert (key.scope_roles, key.scope_region_ids, key.read_only) == (
        "analyst",
        {org["R1"]["region"].id},
        True,
    )
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
    assert key.read_only and key.scope_region_ids == {org["R1"]["region"].id}
    listed = runner.invoke(args=["token", "list"]).output
    assert "read-only" in listed and "never used" in listed
    bad = runner.invoke(args=["token", "issue", "ana", "--role", "system_owner"])
    assert bad.exit_code != 0 and "does not hold" in bad.output


def _three_regions(db_session, org):
    from perception.core.models.org import CustomerOrg, Region

    region = Region(code="R3", name_zh="广州", name_en="Guangzhou")
    db_session.add(region)
    db_session.flush()
    customer = CustomerOrg(code="R3-C", name_zh="广州客户", name_en="Guangzhou customer", region_id=region.id)
    db_session.add(customer)
    db_session.flush()
    return {"R1": org["R1"], "R2": org["R2"], "R3": {"region": region, "customer": customer}}


def test_a_key_of_several_regions_reads_those_regions_only_and_cannot_write_when_read_only(
    client, db_session, org, make_user
):
    regions = _three_regions(db_session, org)
    owner = make_user("boss", "system_owner")
    r1, r2, r3 = (regions[c]["region"].id for c in ("R1", "R2", "R3"))
    token, secret = issue_token(db_session, owner, "bi-north", region_ids=[r1, r3], read_only=True)
    _, writer = issue_token(db_session, owner, "north-writer", region_ids=[r1, r3])
    db_session.commit()
    assert token.scope_region_ids == {r1, r3}
    seen = {r["id"] for r in client.get("/api/v1/regions", headers=_h(secret)).get_json()["items"]}
    assert seen == {r1, r3}
    customers = {c["id"] for c in client.get("/api/v1/customers", headers=_h(secret)).get_json()["items"]}
    assert customers == {regions["R1"]["customer"].id, regions["R3"]["customer"].id}
    assert client.get(f"/api/v1/regions/{r3}", headers=_h(secret)).status_code == 200
    assert client.get(f"/api/v1/regions/{r2}", headers=_h(secret)).status_code == 404
    refused = client.post("/api/v1/setup/import?dry_run=1", json={"format": 1}, headers=_h(secret))
    assert refused.status_code == 403 and refused.get_json()["detail_zh"] == "此 API 密钥只能读取。"
    allowed = client.post("/api/v1/setup/import?dry_run=1", json={"format": 1}, headers=_h(writer))
    assert allowed.status_code != 403
    revoke_token(db_session, token)
    db_session.commit()
    gone = client.get("/api/v1/regions", headers=_h(secret))
    assert gone.status_code == 401 and gone.mimetype == "application/problem+json"


def test_a_region_bound_user_cannot_widen_a_key_to_other_regions(db_session, org, make_user):
    collector = make_user("col", "collector", region="R1")
    with pytest.raises(AccountError) as err:
        issue_token(
            db_session, collector, "wide", region_ids=[org["R1"]["region"].id, org["R2"]["region"].id]
        )
    problem = err.value.problems[0]
    assert problem.field == "region_ids" and str(org["R2"]["region"].id) in problem.en


def test_the_cli_and_the_page_issue_a_key_of_several_regions(app, login_as, db_session, org, make_user):
    regions = _three_regions(db_session, org)
    make_user("ana", "analyst")
    db_session.commit()
    out = app.test_cli_runner().invoke(
        args=["token", "issue", "ana", "--name", "two", "--region", "R1", "--region", "R3", "--read-only"]
    )
    assert out.exit_code == 0, out.output
    key = db_session.scalar(select(ApiToken).where(ApiToken.name == "two"))
    assert key.scope_region_ids == {regions["R1"]["region"].id, regions["R3"]["region"].id}
    assert "regions=R1+R3" in app.test_cli_runner().invoke(args=["token", "list"]).output
    owner = login_as("system_owner", language="en")
    analyst = db_session.scalar(select(ApiToken.user_id).where(ApiToken.name == "two"))
    issued = post_form(
        owner, "/admin/keys",
        {"user_id": str(analyst), "name": "page-two", "customer_id": "0", "read_only": "y", "days": "30",
         "region_ids": [str(regions["R2"]["region"].id), str(regions["R3"]["region"].id)]},
        token_from="/admin/keys",
    )  # fmt: skip
    assert issued.status_code == 200, issued.get_data(as_text=True)[:2000]
    key = db_session.scalar(select(ApiToken).where(ApiToken.name == "page-two"))
    assert key.scope_region_ids == {regions["R2"]["region"].id, regions["R3"]["region"].id}
    assert "Shanghai, Guangzhou" in owner.get("/admin/keys").get_data(as_text=True)


def test_the_keys_page_names_several_regions_in_chinese(login_as, db_session, org):
    owner = login_as("system_owner", language="zh")
    html = owner.get("/admin/keys").get_data(as_text=True)
    assert "仅限这些区域" in html and "Only these regions" not in html
    assert 'name="region_ids"' in html and 'type="checkbox"' in html
