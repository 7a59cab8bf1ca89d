"""Only the development server and the test suite run with a default or short secret key (issue
18: under gunicorn without PERCEPTION_ENV_NAME, or with "Production", the public key
``dev-secret-change-me`` let a forged cookie reach /admin/users as the owner)."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from perception import create_app
from perception.config import DEFAULT_SECRET_KEY, ConfigurationError

GUNICORN = {"SERVER_SOFTWARE": "gunicorn/27.0.1"}


def _forge(payload: dict) -> str:
    """A session cookie signed with the public default key, as anyone who read the source can."""
    forger = Flask("forger")
    forger.secret_key = DEFAULT_SECRET_KEY
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    assert serializer is not None
    return serializer.dumps(payload)


def _app_with_owner(tmp_path, monkeypatch, **config):
    from perception.core import users
    from perception.core.extensions import db
    from perception.core.models.auth import Role
    from perception.core.transaction import unit_of_work

    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/forge.sqlite", **config})
    with app.app_context():
        db.create_all()
        with unit_of_work() as session:
            owner = users.create_user(
                session,
                users.UserSpec(username="owner", display_name="Owner", roles=frozenset({Role.SYSTEM_OWNER}),
                               password="owner password 1"),
            )  # fmt: skip
            owner_id = owner.id
        db.session.remove()
    return app, owner_id


def test_forged_owner_cookie_is_refused_when_served_by_gunicorn(tmp_path, monkeypatch):
    app, owner_id = _app_with_owner(tmp_path, monkeypatch)  # no key set, no ENV_NAME
    browser = app.test_client()
    browser.set_cookie("session", _forge({"uid": owner_id, "sv": 1, "seen": int(time.time()), "sid": "x"}))
    response = browser.get("/admin/users", environ_base=GUNICORN)
    assert response.status_code == 503
    assert "Owner" not in response.get_data(as_text=True)
    # Even the sign-in page is not served with the public key.
    assert app.test_client().get("/login", environ_base=GUNICORN).status_code == 503


@pytest.mark.parametrize("env_name", ["production", "Production", " PRODUCTION "])
def test_production_in_any_spelling_refuses_the_default_key(env_name):
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app({"ENV_NAME": env_name, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.mark.parametrize(
    "key",
    [None, DEFAULT_SECRET_KEY, "short-key-0123456789", "x" * 31],
    ids=["unset", "default", "short", "31"],
)
def test_gunicorn_refuses_a_weak_key_at_start_up(monkeypatch, key):
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/27.0.1")  # what gunicorn's arbiter sets
    config = {"SQLALCHEMY_DATABASE_URI": "sqlite://"}
    if key is not None:
        config["SECRET_KEY"] = key
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app(config)


def test_gunicorn_starts_with_a_strong_key(monkeypatch, tmp_path):
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/27.0.1")
    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "k" * 32})
    assert app.config["SECRET_KEY"] == "k" * 32


def test_development_server_and_test_suite_keep_the_default_key(tmp_path, monkeypatch):
    """`perception demo && perception run` (README) serves with Werkzeug and the default key."""
    app, _ = _app_with_owner(tmp_path, monkeypatch)
    werkzeug = {"SERVER_SOFTWARE": "Werkzeug/3.1.9 Python/3.11.7"}
    assert app.test_client().get("/login", environ_base=werkzeug).status_code == 200
    assert app.test_client().get("/login").status_code == 200  # the test client
