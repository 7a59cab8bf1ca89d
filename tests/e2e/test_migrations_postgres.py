"""The migrations build exactly the schema the models describe, on a real PostgreSQL (the same
check on SQLite: tests/core/test_migrations.py)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from perception import create_app
from perception.core.extensions import db
from tests.core.test_migrations import _assert_no_drift


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
