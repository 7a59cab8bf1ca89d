"""Sign-in, sessions, rate limiting and CSRF, through the Flask test client."""

from __future__ import annotations

import time

from sqlalchemy import select

from perception.core.models.audit import AuditEntry
from tests.conftest import PASSWORD, csrf_token, login, post_form


def test_login_page_and_successful_login(client, make_user):
    make_user("alice", "analyst")
    assert client.get("/login").status_code == 200
    response = login(client, "alice")
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert "Alice" in home.get_data(as_text=True)


def test_session_cookie_flags(client, make_user):
    make_user("alice", "analyst")
    response = login(client, "alice")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_secure_cookie_outside_debug(app):
    from perception import create_app

    prod = create_app(
        {"ENV_NAME": "production", "SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )
    assert prod.config["SESSION_COOKIE_SECURE"] is True


def test_wrong_password_is_refused_and_audited(client, make_user, db_session):
    make_user("alice", "analyst")
    response = login(client, "alice", "wrong password!")
    assert response.status_code == 200
    assert "Unknown username or wrong password" in response.get_data(as_text=True)
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "login_failed"))
    assert entry is not None and entry.summary == "alice"


def test_login_rate_limited_per_account(client, make_user, app):
    make_user("alice", "analyst")
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        login(client, "alice", "nope-nope-nope")
    # Even the right password is refused while the account is throttled.
    response = login(client, "alice", PASSWORD)
    assert response.status_code == 429


def test_login_rate_limited_per_address(client, make_user, app):
    make_user("alice", "analyst")
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    try:
        for i in range(3):
            login(client, f"nobody{i}", "nope-nope-nope")
        assert login(client, "alice", PASSWORD).status_code == 429
    finally:
        app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 30


def test_idle_timeout_signs_out(client, make_user):
    make_user("alice", "analyst")
    login(client, "alice")
    with client.session_transaction() as sess:
        sess["seen"] = int(time.time()) - 31 * 60
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.location


def test_active_session_is_kept(client, make_user):
    make_user("alice", "analyst")
    login(client, "alice")
    with client.session_transaction() as sess:
        sess["seen"] = int(time.time()) - 29 * 60
    assert client.get("/").status_code == 200


def test_password_reset_ends_existing_sessions(client, make_user, db_session):
    from perception.core.users import reset_password

    user = make_user("alice", "analyst")
    login(client, "alice")
    reset_password(db_session, user, "another long password")
    assert client.get("/").status_code == 302


def test_logout(client, make_user):
    make_user("alice", "analyst")
    login(client, "alice")
    response = post_form(client, "/logout")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_csrf_enforced_on_login_form(client, make_user):
    make_user("alice", "analyst")
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)


def test_csrf_enforced_on_admin_form(login_as):
    owner = login_as("system_owner")
    response = owner.post(
        "/admin/users/new",
        data={
            "username": "bob",
            "display_name": "Bob",
            "roles": "analyst",
            "password": "long enough password",
        },
    )
    assert response.status_code == 400


def test_csrf_enforced_on_logout_and_language(login_as):
    c = login_as("analyst")
    assert c.post("/logout").status_code == 400
    assert c.post("/language", data={"lang": "zh_CN"}).status_code == 400


def test_open_redirect_refused(client, make_user):
    make_user("alice", "analyst")
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/"},
    )
    assert response.location == "/"


def test_inactive_user_cannot_login(client, make_user):
    make_user("alice", "analyst", active=False)
    assert login(client, "alice").status_code == 200
