"""Sessions end on the server (issue 18): sign-out, the absolute lifetime, a password change and a
disabled account each end a session for every node, whatever copy of the cookie survives."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from perception.core.models.auth import User, UserSession
from perception.core.models.base import utcnow
from tests.conftest import login, post_form


def _copy_cookie(source, app):
    """A second browser holding a copy of ``source``'s session cookie (a stolen cookie)."""
    thief = app.test_client()
    thief.set_cookie("session", source.get_cookie("session").value)
    return thief


def test_cookie_copied_before_logout_is_refused_afterwards(app, client, make_user):
    make_user("alice", "analyst")
    assert login(client, "alice").status_code == 302
    thief = _copy_cookie(client, app)
    assert thief.get("/").status_code == 200  # the copy works while the session lives
    assert post_form(client, "/logout").status_code == 302
    after = thief.get("/")
    assert after.status_code == 302 and "/login" in after.location
    assert client.get("/").status_code == 302


def test_logout_is_stored_in_the_database_every_node_reads(app, client, make_user, db_session):
    user = make_user("alice", "analyst")
    login(client, "alice")
    live = db_session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
    assert len(live) == 1 and live[0].revoked_at is None
    # The cookie holds a random id; only its hash is stored.
    assert live[0].id_hash not in client.get_cookie("session").value
    post_form(client, "/logout")
    db_session.expire_all()
    assert db_session.get(UserSession, live[0].id_hash).revoked_at is not None


def test_active_session_ends_at_its_absolute_lifetime(app, client, make_user, db_session):
    user = make_user("alice", "analyst")
    login(client, "alice")
    session_row = db_session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert session_row.expires_at - session_row.created_at == app.config["SESSION_ABSOLUTE_LIFETIME"]
    assert app.config["SESSION_ABSOLUTE_LIFETIME"] == timedelta(hours=12)
    assert client.get("/").status_code == 200  # active: the idle timer is renewed
    # 12 hours later, however active the user was in between:
    db_session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.location


def test_disabling_an_account_revokes_its_sessions(app, client, login_as, make_user, db_session):
    make_user("alice", "analyst")
    login(client, "alice")
    from perception.core import users

    alice = db_session.scalar(select(User).where(User.username == "alice"))
    users.update_user(
        db_session,
        alice,
        users.UserSpec(username="alice", display_name="Alice", roles=alice.roles, active=False),
    )
    assert all(s.revoked_at is not None for s in db_session.scalars(select(UserSession)))
    assert client.get("/").status_code == 302


def test_password_change_revokes_every_session(app, make_user, db_session):
    make_user("alice", "analyst")
    browsers = [app.test_client() for _ in range(2)]
    for browser in browsers:
        login(browser, "alice")
    from perception.core import users

    alice = db_session.scalar(select(User).where(User.username == "alice"))
    users.reset_password(db_session, alice, "a brand new password")
    rows = db_session.scalars(select(UserSession).where(UserSession.user_id == alice.id)).all()
    assert len(rows) == 2 and all(r.revoked_at is not None for r in rows)
    assert all(b.get("/").status_code == 302 for b in browsers)
