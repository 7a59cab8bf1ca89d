"""PostgreSQL connections of the service compile no queries with JIT (issue 19): at a national
provider's size JIT cost 100-200 ms per analysis query that runs for well under a second."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import create_engine

from perception.core.db import configure_engine_options

pytestmark = pytest.mark.postgres


def _jit(url: str, options: dict | None = None) -> str:
    app = Flask(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS=options or {})
    configure_engine_options(app)
    engine = create_engine(url, **app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    try:
        with engine.connect() as conn:
            return str(conn.exec_driver_sql("SHOW jit").scalar())
    finally:
        engine.dispose()


def test_the_service_connects_with_jit_off(postgres_url):
    assert _jit(postgres_url) == "off"


def test_a_deployments_own_connect_options_are_kept(postgres_url):
    assert _jit(postgres_url, {"connect_args": {"options": "-c jit=on"}}) == "on"


def test_connect_options_in_the_url_are_extended_not_replaced(postgres_url):
    """A schema chosen in the URL (as a deployment, or a test's own schema, does) stays chosen."""
    joiner = "&" if "?" in postgres_url else "?"
    url = f"{postgres_url}{joiner}options=-csearch_path%3Dpg_catalog"
    app = Flask(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS={})
    configure_engine_options(app)
    engine = create_engine(url, **app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW search_path").scalar() == "pg_catalog"
            assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
    finally:
        engine.dispose()
