"""The migrations build exactly the schema the models describe, on SQLite (on PostgreSQL:
tests/e2e/test_migrations_postgres.py)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from perception import create_app
from perception.core.extensions import db
from perception.core.models.base import Base


def _assert_no_drift(app):
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    summary = [(d[0], getattr(d[1], "name", d[1])) if isinstance(d, tuple) else str(d)[:120] for d in diff]
    assert diff == [], f"models and migrations differ (run `flask --app perception db migrate`): {summary}"


def test_migrations_match_models_sqlite(tmp_path, monkeypatch):
    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path))
    _assert_no_drift(create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/m.sqlite"}))
