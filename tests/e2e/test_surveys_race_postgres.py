"""50 parallel submissions of one personal link store exactly one response, on a real PostgreSQL in
a schema of its own (the race itself, and the same test on SQLite: tests/surveys/test_race.py)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.conftest import POSTGRES_URL
from tests.own_database import PostgresSchema
from tests.surveys.conftest import seed_personal_link
from tests.surveys.test_race import INVITED, PARALLEL, _app, _check, _race


@pytest.fixture
def pg_schema() -> Iterator[str]:
    schema = PostgresSchema(f"sweb_race_{secrets.token_hex(4)}")
    yield schema.schema
    schema.drop()


@pytest.mark.postgres
def test_parallel_submits_postgres(pg_schema, tmp_path, monkeypatch):
    from perception.core.extensions import db

    options = {"connect_args": {"options": f"-csearch_path={pg_schema}"}, "pool_size": PARALLEL + 5}
    app = _app(POSTGRES_URL, tmp_path, monkeypatch, options)
    try:
        token = seed_personal_link(app, *INVITED, days=1)
        _check(app, _race(app, token))
    finally:
        with app.app_context():
            db.engine.dispose()
