"""`perception demo` on a fresh database loads the whole demo, and running it again adds no domain
data (the other commands: tests/core/test_cli.py). Both tests read one run of the command on one
database (the module's ``demo_run``): the demo takes a minute or more to load."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.core.extensions import db


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """An app of its own on an empty SQLite file (as ``fresh_app``) and the result of running
    `perception demo --weeks 3` on it once."""
    from perception import create_app

    folder = tmp_path_factory.mktemp("cli-demo")
    saved = os.environ.get("PERCEPTION_INSTANCE_PATH")
    os.environ["PERCEPTION_INSTANCE_PATH"] = str(folder)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/cli.sqlite"})
        yield app, app.test_cli_runner().invoke(args=["demo", "--weeks", "3"])
        with app.app_context():
            db.engine.dispose()
    finally:
        if saved is None:
            os.environ.pop("PERCEPTION_INSTANCE_PATH", None)
        else:
            os.environ["PERCEPTION_INSTANCE_PATH"] = saved


def test_demo_is_idempotent(demo_run):
    from perception.core.models.base import Base

    fresh_app, first = demo_run
    runner = fresh_app.test_cli_runner()
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


def test_demo_audit_images_hold_only_real_values(demo_run):
    """Issue 18: loading the demo wrote 530+ audit images with ``4`` (SQLAlchemy's NO_VALUE) for
    columns never set. No text, date or flag column of any audited table may read 4 (whether the
    idempotence test's second run has happened or not)."""
    import sqlalchemy as sa

    from perception.core.models.audit import AuditEntry
    from perception.core.models.base import Base

    fresh_app, first = demo_run
    assert first.exit_code == 0, first.output
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


def test_every_demo_user_signs_in_with_the_printed_password(demo_run):
    """The demo's users share one argon2 hash of the printed password (hashed once, not once per
    customer representative): each of them, representatives included, signs in with it."""
    from perception.core import security
    from perception.core.demo import DEMO_PASSWORD
    from perception.core.models.auth import User

    fresh_app, first = demo_run
    assert first.exit_code == 0, first.output
    with fresh_app.app_context():
        users = db.session.scalars(select(User)).all()
        assert len(users) > 20 and any(u.customer_id for u in users)
        assert len({u.password_hash for u in users}) == 1  # one hash, argon2 ran once
        rep = next(u for u in users if u.customer_id)
        assert rep.password_hash.startswith("$argon2id$")
        assert security.verify_password(rep, DEMO_PASSWORD)
        assert not security.verify_password(rep, DEMO_PASSWORD + "x")
