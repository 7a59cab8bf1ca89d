"""Behind a reverse proxy (issue 18): the client's address comes from X-Forwarded-For only through
the configured number of trusted proxies (PROXY_TRUSTED_FOR, default 0), HTTPS from
X-Forwarded-Proto only when PROXY_TRUSTED_PROTO trusts it; HSTS on every HTTPS answer."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import login
from tests.surveys.conftest import seed_personal_link

PROXY = "10.0.0.1"


@pytest.fixture
def own_app(tmp_path, monkeypatch):
    """An app of its own with extra configuration (the proxy is wrapped in at start-up)."""
    from perception import create_app
    from perception.core.extensions import db

    made: list[Any] = []

    def make(**config: Any) -> Any:
        monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path / f"instance{len(made)}"))
        app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/proxy{len(made)}.sqlite",
                "SECRET_KEY": "proxy-secret-key-which-is-long-enough-0123456789",
                **config,
            }
        )
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


def _via_proxy(client: Any, forwarded_for: str, **headers: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": PROXY}, "headers": {"X-Forwarded-For": forwarded_for, **headers}}


def _audit_addresses(app: Any, action: str) -> list[str]:
    from perception.core.extensions import db
    from perception.core.models.audit import AuditEntry

    with app.app_context():
        rows = db.session.scalars(select(AuditEntry.address).where(AuditEntry.action == action)).all()
        db.session.remove()
    return list(rows)


def test_forwarded_for_is_ignored_without_a_trusted_proxy(own_app):
    from perception.core.extensions import db

    app = own_app(LOGIN_MAX_FAILURES_PER_ADDRESS=3)
    with app.app_context():
        db.create_all()
    guesser = app.test_client()
    # A guesser who invents a new X-Forwarded-For each time is still counted by its real address.
    statuses = []
    for i in range(4):
        guesser.environ_base.update({"REMOTE_ADDR": "198.51.100.7"})
        guesser.environ_base["HTTP_X_FORWARDED_FOR"] = f"192.0.2.{i}"
        statuses.append(login(guesser, f"nobody{i}", "nope-nope-nope").status_code)
    assert statuses == [200, 200, 200, 429]
    assert set(_audit_addresses(app, "login_failed")) == {"198.51.100.7"}


INVITED = (
    ("PX", "代理", "Proxy"),
    ("PX-C", "客户", "Customer"),
    ("Li", "li@example.com"),
    ("PX", "代理", "Proxy"),
)


def test_behind_a_trusted_proxy_one_guesser_does_not_block_the_company(own_app):
    app = own_app(PROXY_TRUSTED_FOR=1, SURVEY_TOKEN_MAX_FAILURES=3, SURVEY_MIN_FILL_SECONDS=0)
    token = seed_personal_link(app, *INVITED, days=3)
    guesser, colleague = app.test_client(), app.test_client()
    statuses = [
        guesser.get(f"/s/t/unknown-token-{i:030d}", **_via_proxy(guesser, "203.0.113.5")).status_code
        for i in range(4)
    ]
    assert statuses == [404, 404, 404, 429]
    # The proxy appends the address it saw; a client's own X-Forwarded-For is not believed.
    spoofed = guesser.get("/s/t/unknown-token-x", **_via_proxy(guesser, "203.0.113.77, 203.0.113.5"))
    assert spoofed.status_code == 429
    # A colleague behind the same proxy is counted apart, and opens their link.
    assert colleague.get("/s/t/unknown-token-y", **_via_proxy(colleague, "203.0.113.6")).status_code == 404
    assert colleague.get(f"/s/t/{token}", **_via_proxy(colleague, "203.0.113.6")).status_code == 303
    # The guesser's address is the client's, not the proxy's.
    from perception.core.extensions import db
    from perception.core.models.auth import ThrottleCounter

    with app.app_context():
        keys = set(db.session.scalars(select(ThrottleCounter.key)))
        db.session.remove()
    assert keys == {"survey-guess:203.0.113.5", "survey-guess:203.0.113.6"}


def test_hsts_only_over_https(own_app):
    app = own_app()
    client = app.test_client()
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://perception.example.com")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    # Without a trusted proxy, anyone can claim HTTPS: no HSTS, no Secure-only behaviour from it.
    claimed = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in claimed.headers


def test_hsts_behind_a_trusted_tls_proxy(own_app):
    app = own_app(PROXY_TRUSTED_FOR=1, PROXY_TRUSTED_PROTO=1)
    client = app.test_client()
    behind = client.get("/login", **_via_proxy(client, "203.0.113.5", **{"X-Forwarded-Proto": "https"}))
    assert behind.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    plain = client.get("/login", **_via_proxy(client, "203.0.113.5", **{"X-Forwarded-Proto": "http"}))
    assert "Strict-Transport-Security" not in plain.headers
