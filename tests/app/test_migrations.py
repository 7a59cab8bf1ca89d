"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
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


@pytest.mark.postgres
def test_migrations_match_models_postgres(postgres_url, tmp_path, monkeypatch):
    base, _, _ = postgres_url.rpartition("/")
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS perception_migration_check")
        conn.exec_driver_sql("CREATE DATABASE perception_migration_check")
    admin.dispose()
    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"{base}/perception_migration_check"})
    try:
        _assert_no_drift(app)
    finally:
        with app.app_context():
            db.engine.dispose()
