"""The audit log: automatic before/after images, explicit events, append-only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from perception.core.models.audit import AuditEntry
from perception.core.models.org import Region
from tests.conftest import post_form


def _entries(db_session, **where):
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(AuditEntry, key) == value)
    return db_session.scalars(stmt).all()


def test_create_update_delete_are_audited_with_images(db_session):
    region = Region(code="X1", name_zh="测试", name_en="Test")
    db_session.add(region)
    db_session.flush()
    region.name_en = "Renamed"
    db_session.flush()
    db_session.delete(region)
    db_session.flush()
    rows = _entries(db_session, object_type="Region", object_id=str(region.id))
    assert [r.action for r in rows] == ["create", "update", "delete"]
    assert rows[0].after["name_zh"] == "测试"
    assert rows[1].before["name_en"] == "Test"
    assert rows[1].after["name_en"] == "Renamed"
    assert rows[2].before["code"] == "X1"


def test_secrets_never_reach_the_audit_log(db_session, make_user):
    make_user("alice", "analyst")
    row = _entries(db_session, object_type="User")[0]
    assert "password_hash" not in row.after
    assert row.after["username"] == "alice"


def test_audit_log_is_append_only(db_session):
    from perception.core.audit import record

    record(db_session, "export", summary="x")
    entry = _entries(db_session, action="export")[0]
    entry.summary = "tampered"
    with pytest.raises(PermissionError):
        db_session.flush()
    db_session.rollback()


def test_admin_change_through_http_records_actor(login_as, db_session, org):
    owner = login_as("system_owner")
    response = post_form(
        owner,
        "/admin/users/new",
        {
            "username": "bob",
            "display_name": "Bob",
            "roles": ["analyst"],
            "password": "a long password 1",
            "collection_point_id": "0",
            "customer_id": "0",
            "language": "",
            "active": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    created = [
        r for r in _entries(db_session, object_type="User", action="create") if r.after["username"] == "bob"
    ]
    assert created and created[0].actor_name == owner.user.username


def test_audit_page_shows_failed_login(client, login_as, db_session):
    client.post("/login", data={"username": "ghost", "password": "x" * 12, "csrf_token": "bad"})
    from tests.conftest import login

    login(client, "ghost", "whatever-password")
    owner = login_as("system_owner")
    page = owner.get("/admin/audit?action=login_failed").get_data(as_text=True)
    assert "login_failed" in page and "ghost" in page
