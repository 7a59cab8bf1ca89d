"""Strangers cannot lock a user out (issue 18: 5 wrong passwords from anywhere locked any account
for everyone for 15 minutes). A browser that signed in before carries a signed device cookie; its
attempts count only against that device, so the user still signs in from their usual browser."""

from __future__ import annotations

from perception.web.auth import devices
from tests.conftest import PASSWORD, login, post_form

ATTACKER = {"REMOTE_ADDR": "198.51.100.7"}


def _attack(app, username, times):
    attacker = app.test_client()
    for i in range(times):
        attacker.environ_base.update(ATTACKER)
        login(attacker, username, f"guess number {i}")
    return attacker


def _usual_browser(app, username):
    """The user's own browser, after one successful sign-in and sign-out."""
    browser = app.test_client()
    assert login(browser, username).status_code == 302
    assert browser.get_cookie(devices.COOKIE) is not None
    post_form(browser, "/logout")
    return browser


def test_attacker_cannot_lock_out_the_usual_device(app, make_user):
    make_user("alice", "analyst")
    usual = _usual_browser(app, "alice")
    attacker = _attack(app, "alice", 20)
    # Strangers are locked out of the account, even with the right password...
    attacker.environ_base.update(ATTACKER)
    assert login(attacker, "alice", PASSWORD).status_code == 429
    assert login(app.test_client(), "alice", PASSWORD).status_code == 429
    # ...but Alice, from the browser she always uses, signs in.
    response = login(usual, "alice")
    assert response.status_code == 302
    assert usual.get("/").status_code == 200


def test_the_usual_device_has_its_own_limit(app, make_user):
    make_user("alice", "analyst")
    usual = _usual_browser(app, "alice")
    for i in range(app.config["LOGIN_MAX_FAILURES_PER_DEVICE"]):
        assert login(usual, "alice", f"typo number {i}").status_code == 200
    assert login(usual, "alice", PASSWORD).status_code == 429  # guessing from a stolen laptop stops
    # A locked device does not lock the account: another browser still signs in.
    assert login(app.test_client(), "alice").status_code == 302


def test_device_cookie_is_for_one_account_and_must_be_signed(app, make_user):
    make_user("alice", "analyst")
    make_user("bob", "analyst")
    bobs = _usual_browser(app, "bob")
    _attack(app, "alice", app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"])
    assert login(bobs, "alice", PASSWORD).status_code == 429  # Bob's device is a stranger to Alice's account
    forged = app.test_client()
    forged.set_cookie(devices.COOKIE, "eyJ1IjoiYWxpY2UiLCJkIjoieCJ9.forged.signature")
    assert login(forged, "alice", PASSWORD).status_code == 429


def test_strangers_from_one_address_do_not_lock_the_device_there(app, make_user, monkeypatch):
    """A colleague behind the same company address keeps signing in while a guesser there is throttled."""
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 3)
    make_user("alice", "analyst")
    usual = _usual_browser(app, "alice")
    guesser = app.test_client()
    for i in range(3):
        login(guesser, f"nobody{i}", "nope-nope-nope")
    assert login(guesser, "alice", PASSWORD).status_code == 429
    assert login(usual, "alice").status_code == 302


def test_device_cookie_flags(app, client, make_user):
    make_user("alice", "analyst")
    response = login(client, "alice")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(devices.COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
