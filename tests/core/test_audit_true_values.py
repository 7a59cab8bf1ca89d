"""The audit log records only real values: a column never set is not written as SQLAlchemy's
NO_VALUE marker (which the JSON encoder turned into the number 4, issue 18)."""

from __future__ import annotations

from sqlalchemy import select

from perception.core.models.audit import AuditEntry
from perception.core.models.org import Contact


def _entries(db_session, object_type, object_id):
    stmt = select(AuditEntry).where(
        AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id)
    )
    return db_session.scalars(stmt.order_by(AuditEntry.id)).all()


def test_create_records_never_set_columns_as_null_not_4(db_session, org):
    contact = Contact(customer_id=org["R1"]["customer"].id, region_id=org["R1"]["region"].id, name="Li")
    db_session.add(contact)
    db_session.flush()
    created = _entries(db_session, "Contact", contact.id)[0]
    assert created.after["notes"] is None
    assert created.after["unsubscribed_at"] is None
    assert 4 not in created.after.values()


def test_delete_of_an_expired_object_records_its_stored_values(db_session, org):
    contact = org["R1"]["contact"]
    db_session.expire(contact)  # as after a commit: nothing loaded
    db_session.delete(contact)
    db_session.flush()
    deleted = _entries(db_session, "Contact", contact.id)[-1]
    assert deleted.action == "delete"
    assert deleted.before["email"] == "r1@example.com"
    assert 4 not in deleted.before.values()


def test_update_of_an_unloaded_column_records_no_marker(db_session, org):
    contact = org["R1"]["contact"]
    db_session.expire(contact, ["notes"])  # the old value was never loaded
    contact.notes = "prefers phone"
    db_session.flush()
    updated = _entries(db_session, "Contact", contact.id)[-1]
    assert updated.action == "update"
    assert updated.after == {"notes": "prefers phone"}
    assert 4 not in updated.before.values()


def test_migration_repairs_the_markers_already_written(tmp_path, monkeypatch):
    """Entries written by the old code (``"notes": 4`` for a never-set column) are repaired by the
    h18auth migration; a real 4 in a numeric column stays."""
    import json

    from flask_migrate import upgrade
    from sqlalchemy import text

    from perception import create_app
    from perception.core.extensions import db

    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/old.sqlite"})
    bad_create = {"id": 7, "customer_id": 4, "name": "Li", "notes": 4, "unsubscribed_at": 4}
    bad_update = {"dimension": 4, "value": 4}
    with app.app_context():
        upgrade(revision="a53d4eb5bf2e")
        with db.engine.begin() as conn:
            insert = text(
                "INSERT INTO audit_entry (at, actor_name, action, object_type, object_id, before, after) "
                "VALUES ('2026-11-30 10:00:00', 'owner', :action, :type, '7', :before, :after)"
            )
            created = {"action": "create", "type": "Contact", "before": None, "after": json.dumps(bad_create)}
            conn.execute(insert, created)
            updated = {
                "action": "update",
                "type": "ExperienceObservation",
                "before": json.dumps(bad_update),
                "after": json.dumps({"dimension": "speed", "value": 5}),
            }
            conn.execute(insert, updated)
        upgrade(revision="h18auth")
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT before, after FROM audit_entry ORDER BY id")).all()
        db.engine.dispose()
    assert rows[0][0] is None  # an absent image stays absent
    created, updated = [(json.loads(b) if b else None, json.loads(a)) for b, a in rows]
    assert created[1] == {"id": 7, "customer_id": 4, "name": "Li", "notes": None, "unsubscribed_at": None}
    assert updated[0] == {"value": 4}  # dimension's old value was never known; value is numeric
    assert updated[1] == {"dimension": "speed", "value": 5}
