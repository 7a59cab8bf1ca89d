"""Issue 19: the respondent's requests do no work their step does not need, and stay as safe.

A thank-you page never creates a database session; a link opens with a bare 303 to the survey
page (the address url_for would give, under a script root too); a submission nonce is trusted
only in the form the pages make it (ASCII URL-safe)."""

from __future__ import annotations

from typing import Any

from flask import url_for

from perception.core.extensions import db
from perception.core.i18n import is_zh
from perception.surveys.respondent.forms import new_nonce, valid_nonce


def test_thanks_page_creates_no_database_session(app: Any, client: Any, monkeypatch: Any) -> None:
    client.get("/s/done")  # first request of the app: anything created once per process
    made: list[Any] = []
    factory = db.session.session_factory

    def counting(**kwargs: Any) -> Any:
        made.append(kwargs)
        return factory(**kwargs)

    monkeypatch.setattr(db.session, "session_factory", counting)
    db.session.registry.createfunc = counting
    response = client.get("/s/done", headers={"Accept-Language": "en"})
    assert response.status_code == 200 and "Thank you" in response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["Cache-Control"] == "no-store"
    assert made == []


def test_link_opens_with_a_bare_redirect_to_the_page(app: Any, make_campaign: Any, invite: Any) -> None:
    token = invite(make_campaign())["r1@example.com"]
    client = app.test_client()
    opened = client.get(f"/s/t/{token}")
    assert opened.status_code == 303 and opened.location == "/s/r"
    assert opened.get_data() == b""
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    assert client.get("/s/r").status_code == 200
    under_root = app.test_client().get(f"/s/t/{token}", base_url="http://localhost/perception")
    assert under_root.status_code == 303 and under_root.location == "/perception/s/r"


def test_respond_url_is_url_for(app: Any) -> None:
    from perception.surveys.respondent.views import _respond_url

    for root in ("", "/perception"):
        with app.test_request_context("/s/r", base_url=f"http://localhost{root}"):
            assert _respond_url() == url_for("public.respond") == f"{root}/s/r"


def test_only_url_safe_ascii_nonces_are_trusted() -> None:
    assert valid_nonce(new_nonce())
    assert valid_nonce("A-z_09" + "a" * 16)
    for bad in ("é" * 22, "١" * 22, "a" * 21, "a" * 23, "a" * 21 + "\n", "a" * 21 + "=", None, 22):
        assert not valid_nonce(bad), bad


def test_is_zh_follows_the_request_language(app: Any) -> None:
    from flask_babel import refresh

    for header, expected in (("zh-CN,zh;q=0.9", True), ("zh-TW", True), ("en-GB", False), ("fr", False)):
        with app.test_request_context("/s/done", headers={"Accept-Language": header}):
            refresh()
            assert is_zh() is expected, header
