"""`perception demo` on a fresh database loads the whole demo, and running it again adds no domain
data (the other commands: tests/core/test_cli.py)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from perception.core.extensions import db


def test_demo_is_idempotent(fresh_app):
    from perception.core.models.base import Base

    runner = fresh_app.test_cli_runner()
    first = runner.invoke(args=["demo", "--weeks", "3"])
    assert first.exit_code == 0, first.output
    # It says what it is doing while it works (it takes minutes on a busy machine), part by part.
    assert re.search(r"\[1/\d+\] setup \(org\) \.\.\.", first.output), first.output
    assert re.search(r"\[\d+/\d+\] review: done in \d+\.\d s", first.output), first.output
    with fresh_app.app_context():
        counts = {
            t.name: db.session.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
        }
    second = runner.invoke(args=["demo", "--weeks", "3"])
    assert second.exit_code == 0, second.output
    with fresh_app.app_context():
        again = {
            t.name: db.session.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
        }
    # Audit rows and scheduler bookkeeping may grow; domain data must not.
    for name in ("audit_entry", "throttle_counter", "user_session", "scheduled_run"):
        counts.pop(name, None)
        again.pop(name, None)
    assert counts == again
    assert counts["region"] == 12 and counts["collection_point"] == 12


def test_demo_audit_images_hold_only_real_values(fresh_app):
    """Issue 18: loading the demo wrote 530+ audit images with ``4`` (SQLAlchemy's NO_VALUE) for
    columns never set. No text, date or flag column of any audited table may read 4."""
    import sqlalchemy as sa

    from perception.core.models.audit import AuditEntry
    from perception.core.models.base import Base

    assert fresh_app.test_cli_runner().invoke(args=["demo", "--weeks", "3"]).exit_code == 0
    by_class = {m.class_.__name__: m.local_table for m in Base.registry.mappers}
    bad = []
    with fresh_app.app_context():
        for object_type, before, after in db.session.execute(
            select(AuditEntry.object_type, AuditEntry.before, AuditEntry.after)
        ):
            table = by_class.get(object_type or "")
            for image in (before or {}, after or {}):
                for key, value in image.items():
                    column = table.c.get(key) if table is not None else None
                    numeric = column is not None and isinstance(
                        column.type, sa.Integer | sa.Numeric | sa.Float
                    )
                    if type(value) is int and value == 4 and not numeric:
                        bad.append((object_type, key))
        total = db.session.scalar(select(func.count(AuditEntry.id)))
    assert total > 500 and bad == [], bad[:20]
