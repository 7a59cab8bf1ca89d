"""Configuration order and production safety; error pages never show a traceback."""

from __future__ import annotations

import pytest

from perception import create_app
from perception.config import ConfigurationError


def test_production_refuses_default_secret():
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app({"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_refuses_debug(monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(ConfigurationError, match="debug"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": "s" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_environment_overrides_instance_config(monkeypatch, tmp_path):
    (tmp_path / "config.py").write_text("MAIL_DEFAULT_SENDER = 'from-file@example.com'\nAPI_PAGE_SIZE = 7\n")
    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PERCEPTION_API_PAGE_SIZE", "42")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["MAIL_DEFAULT_SENDER"] == "from-file@example.com"
    assert app.config["API_PAGE_SIZE"] == 42


def test_database_url_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PERCEPTION_DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("x.sqlite")


def test_default_database_is_sqlite_in_instance(monkeypatch, tmp_path):
    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("PERCEPTION_DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/perception.sqlite"


def test_sqlite_pragmas(tmp_path, monkeypatch):
    from perception.core.extensions import db

    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.sqlite"})
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_unhandled_error_gives_a_page_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path))
    app = create_app({"TESTING": True, "SHOW_500_IN_TESTS": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret internals" not in body and "Traceback" not in body


def test_404_json_for_api_paths(client):
    response = client.get("/api/v1/does-not-exist")
    assert response.is_json


def test_security_headers(client):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_static_assets_served_locally(client):
    html = client.get("/login").get_data(as_text=True)
    assert "http://" not in html.split("<body")[0] and "https://" not in html.split("<body")[0]
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    response.close()
