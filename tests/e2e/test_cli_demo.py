"""`perception demo` on a fresh database loads the whole demo, and running it again adds no domain
data (the other commands: tests/core/test_cli.py)."""

from __future__ import annotations

from sqlalchemy import func, select

from perception.core.extensions import db


def test_demo_is_idempotent(fresh_app):
    from perception.core.models.base import Base

    runner = fresh_app.test_cli_runner()
    first = runner.invoke(args=["demo", "--weeks", "3"])
    assert first.exit_code == 0, first.output
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
