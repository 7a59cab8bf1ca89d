"""Role x endpoint access and region scoping, decided centrally from the logged-in user."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from perception.core.models.audit import AuditEntry
from perception.core.models.auth import Role

STAFF_ROLES = [r for r in Role if r != Role.CUSTOMER_REP]


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reaches_home(login_as, role):
    c = login_as(role.value)
    assert c.get("/").status_code == 200


@pytest.mark.parametrize("role", list(Role))
def test_admin_pages_only_for_system_owner(login_as, role):
    c = login_as(role.value)
    expected = 200 if role == Role.SYSTEM_OWNER else 403
    assert c.get("/admin/users").status_code == expected
    assert c.get("/admin/audit").status_code == expected


def test_anonymous_is_sent_to_login(client):
    for path in ("/", "/admin/users", "/admin/audit"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location


def test_denied_access_is_audited(login_as, db_session):
    c = login_as("collector")
    assert c.get("/admin/audit").status_code == 403
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "permission_denied"))
    assert entry is not None
    assert "/admin/audit" in entry.summary
    assert entry.actor_name == c.user.username


def test_collector_sees_only_own_region_in_api(app, login_as, org, db_session):
    from perception.core.users import issue_token

    c = login_as("collector", region="R1")
    _, secret = issue_token(db_session, c.user, "t")
    headers = {"Authorization": f"Bearer {secret}"}
    own = org["R1"]["region"].id
    other = org["R2"]["region"].id
    listed = c.get("/api/v1/regions", headers=headers).get_json()["items"]
    assert [r["id"] for r in listed] == [own]
    assert c.get(f"/api/v1/regions/{own}", headers=headers).status_code == 200
    # Another region's object by id looks exactly like a missing one.
    other_resp = c.get(f"/api/v1/regions/{other}", headers=headers)
    missing_resp = c.get("/api/v1/regions/999999", headers=headers)
    assert other_resp.status_code == missing_resp.status_code == 404
    assert other_resp.get_json() == missing_resp.get_json()


def test_region_scope_cannot_be_widened_by_request(login_as, org, db_session):
    from perception.core.users import issue_token

    c = login_as("collector", region="R1")
    _, secret = issue_token(db_session, c.user, "t")
    headers = {"Authorization": f"Bearer {secret}"}
    other = org["R2"]["region"].id
    listed = c.get(f"/api/v1/regions?region_id={other}&role=system_owner", headers=headers).get_json()[
        "items"
    ]
    assert other not in [r["id"] for r in listed]


def test_organiser_sees_every_region(login_as, org, db_session):
    from perception.core.users import issue_token

    c = login_as("organiser")
    _, secret = issue_token(db_session, c.user, "t")
    listed = c.get("/api/v1/regions", headers={"Authorization": f"Bearer {secret}"}).get_json()["items"]
    assert {r["id"] for r in listed} == {org["R1"]["region"].id, org["R2"]["region"].id}


def test_customer_rep_sees_only_own_customer(login_as, org, db_session):
    from perception.core.users import issue_token

    c = login_as("customer_rep", region="R2")
    _, secret = issue_token(db_session, c.user, "t")
    listed = c.get("/api/v1/customers", headers={"Authorization": f"Bearer {secret}"}).get_json()["items"]
    assert [x["id"] for x in listed] == [org["R2"]["customer"].id]


def test_scoped_helper_applies_to_indirect_models(db_session, org, make_user):
    from perception.core.authz import scoped
    from perception.core.models.org import CollectionPoint, Contact

    collector = make_user("col", "collector", region="R2")
    rows = db_session.scalars(scoped(select(Contact), Contact, collector)).all()
    assert {c.region_id for c in rows} == {org["R2"]["region"].id}
    points = db_session.scalars(scoped(select(CollectionPoint), CollectionPoint, collector)).all()
    assert [p.code for p in points] == ["CP-R2"]


def test_collector_must_belong_to_a_collection_point(db_session, org):
    from perception.core import users

    with pytest.raises(users.UserError) as err:
        users.create_user(
            db_session,
            users.UserSpec(
                username="c", display_name="c", roles=frozenset({Role.COLLECTOR}), password="x" * 12
            ),
        )
    assert err.value.field == "collection_point_id"


def test_header_names_the_users_region(login_as):
    c = login_as("collector", region="R2")
    html = c.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Region: Shanghai" in html
