"""One transaction per Core request on a real PostgreSQL, in a schema of its own (the same test on
SQLite, and what it checks: tests/surveys/test_hflow3_core_requests.py)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.conftest import POSTGRES_URL
from tests.own_database import PostgresSchema
from tests.surveys.test_hflow3_core_requests import check_one_transaction, own_app


@pytest.fixture
def pg_schema() -> Iterator[str]:
    schema = PostgresSchema(f"hflow3_core_{secrets.token_hex(4)}")
    yield schema.schema
    schema.drop()


@pytest.mark.postgres
def test_one_transaction_per_core_request_postgres(pg_schema, tmp_path, monkeypatch):
    from perception.core.extensions import db
    from perception.core.jobs.runner import stop_threads

    options = {"connect_args": {"options": f"-csearch_path={pg_schema}"}}
    app = own_app(POSTGRES_URL, tmp_path, monkeypatch, options)
    try:
        check_one_transaction(app, monkeypatch)
    finally:
        stop_threads(app)  # the follow-up job's background thread, before its connections go
        with app.app_context():
            db.engine.dispose()
