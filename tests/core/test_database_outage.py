"""A database outage answers 503 with Retry-After on every page, API call and survey link (the
issue saw generic 500s), keeps a sent form's answers on the page, stores nothing half-done, and
the next request after the database returns is served again.

The outage is real: on SQLite the database file is replaced by something that cannot be opened;
on PostgreSQL the app talks to the server through a TCP proxy that the test stops (open
connections cut, new ones refused) and starts again.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from tests.conftest import PASSWORD, POSTGRES_URL, csrf_token, postgres_available, require_component
from tests.dbproxy import TcpProxy

SCHEMA = "outage_test"


class SqliteOutage:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"
        self.engine_options: dict[str, Any] = {}

    def block(self, engine: Any) -> None:
        engine.dispose()  # the file is opened again by the next request, and cannot be
        self.path.rename(self.path.with_suffix(".away"))
        self.path.mkdir()

    def unblock(self) -> None:
        self.path.rmdir()
        self.path.with_suffix(".away").rename(self.path)

    def close(self) -> None:
        pass


class PostgresOutage:
    def __init__(self) -> None:
        ok, reason = postgres_available()
        require_component("PostgreSQL", ok, reason)
        real = make_url(POSTGRES_URL)
        self.proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432)
        port = self.proxy.start()
        self.url = real.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
        # Tables of their own, so the committed rows of this test never meet the other tests'.
        self.engine_options = {"connect_args": {"options": f"-csearch_path={SCHEMA}", "connect_timeout": 2}}
        import sqlalchemy

        admin = sqlalchemy.create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        admin.dispose()

    def block(self, engine: Any) -> None:
        self.proxy.stop()

    def unblock(self) -> None:
        self.proxy.start()

    def close(self) -> None:
        import sqlalchemy

        self.proxy.stop()
        admin = sqlalchemy.create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        admin.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.own_sqlite),
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def outage(request, tmp_path, monkeypatch):
    if request.param == "sqlite":
        blocker: Any = SqliteOutage(tmp_path / "outage.sqlite")
    else:
        blocker = PostgresOutage()
    from perception import create_app
    from perception.core import users
    from perception.core.extensions import db
    from perception.core.models.auth import Role
    from perception.core.transaction import unit_of_work

    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path))
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": blocker.url,
            "SQLALCHEMY_ENGINE_OPTIONS": blocker.engine_options,
            "SECRET_KEY": "test-secret-key-which-is-long-enough-0123456789",
            "SERVER_NAME": None,
            "OUTAGE_RETRY_AFTER_SECONDS": 7,
            "SURVEY_MIN_FILL_SECONDS": 0,
        }
    )
    with app.app_context():
        db.create_all()
        with unit_of_work() as session:
            owner = users.create_user(
                session,
                users.UserSpec(
                    username="owner",
                    display_name="Owner",
                    roles=frozenset({Role.SYSTEM_OWNER}),
                    password=PASSWORD,
                ),
            )
            _token, secret = users.issue_token(session, owner, "outage")
    app.api_secret = secret
    yield app, blocker
    from perception.core.jobs.runner import stop_threads

    stop_threads(app)
    blocker.close()
    with app.app_context():
        db.engine.dispose()


def _counts(app) -> dict[str, int]:
    from perception.core.extensions import db
    from perception.core.models.auth import User

    with app.app_context():
        return {
            "users": db.session.scalar(select(func.count(User.id))),
            # API keys audit each use (issue 16): the calls made after recovery are real uses.
            "audit": db.session.execute(
                text("SELECT count(*) FROM audit_entry WHERE action != 'api_key_used'")
            ).scalar_one(),
        }


def test_an_outage_answers_503_keeps_the_answers_and_recovers(outage):
    app, blocker = outage
    from perception.core.extensions import db

    client = app.test_client()
    token = csrf_token(client, "/login")
    signed_in = app.test_client()
    response = signed_in.post(
        "/login", data={"username": "owner", "password": PASSWORD, "csrf_token": csrf_token(signed_in)}
    )
    assert response.status_code == 302
    assert signed_in.get("/").status_code == 200
    api = {"Authorization": f"Bearer {app.api_secret}"}
    assert client.get("/api/v1/me", headers=api).status_code == 200
    before = _counts(app)

    with app.app_context():
        blocker.block(db.engine)
    try:
        page = signed_in.get("/")
        assert page.status_code == 503, page.get_data(as_text=True)[:300]
        assert page.headers["Retry-After"] == "7"
        html = page.get_data(as_text=True)
        assert "cannot reach its database" in html and "Traceback" not in html
        assert '<meta http-equiv="refresh" content="7">' in html  # a page that tries again by itself

        zh = client.get("/login", headers={"Accept-Language": "zh-CN"})
        assert zh.status_code in (200, 503)  # the sign-in page itself needs no database
        survey = client.get("/s/t/some-survey-link", headers={"Accept-Language": "zh-CN"})
        assert survey.status_code == 503 and survey.headers["Retry-After"] == "7"
        assert "数据库" in survey.get_data(as_text=True)

        problem = client.get("/api/v1/me", headers=api)
        assert problem.status_code == 503 and problem.headers["Retry-After"] == "7"
        assert problem.mimetype == "application/problem+json"
        body = problem.get_json()
        assert (
            body["code"] == "database_unavailable" and body["status"] == 503 and "数据库" in body["detail_zh"]
        )

        # A form sent during the outage comes back with what was typed, ready to send again.
        sent = {
            "username": "owner",
            "password": "not stored anywhere",
            "csrf_token": token,
            "next": "/?a=<b>",
        }
        again = client.post("/login", data=sent)
        assert again.status_code == 503
        form = again.get_data(as_text=True)
        kept = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
        assert kept["username"] == "owner" and kept["csrf_token"] == token
        assert kept["next"] == "/?a=&lt;b&gt;"  # escaped
        assert 'action="/login"' in form and "Send again" in form
        assert client.get("/healthz").status_code == 503
    finally:
        blocker.unblock()

    # Back at once: the very next requests are served.
    assert signed_in.get("/").status_code == 200
    assert client.get("/api/v1/me", headers=api).status_code == 200
    assert client.get("/healthz").status_code == 200
    # Nothing of the outage's requests was stored (not the failed sign-in, not an audit row).
    assert _counts(app) == before
    resent = client.post("/login", data={"username": "owner", "password": PASSWORD, "csrf_token": token})
    assert resent.status_code == 302  # the kept form, sent again, works


def test_survey_answers_sent_during_an_outage_are_kept_on_the_page_and_stored_once_after(outage):
    """The respondent's answers come back on the 503 page, ready to send again; nothing of them is
    stored during the outage (no response, the link still unused); sent again afterwards, they
    are stored once."""
    from tests.surveys.conftest import seed_personal_link
    from tests.surveys.test_race import CSRF, INVITED, NONCE

    app, blocker = outage
    from perception.core.extensions import db

    token = seed_personal_link(app, *INVITED, days=1)
    respondent = app.test_client()
    assert respondent.get(f"/s/t/{token}").status_code == 303
    html = respondent.get("/s/r", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    answers = {
        "csrf_token": CSRF.search(html).group(1),
        "submission_nonce": NONCE.search(html).group(1),
        "page": "0",
        "csat": "5",
    }
    with app.app_context():
        blocker.block(db.engine)
    try:
        refused = respondent.post("/s/r", data=answers, headers={"Accept-Language": "zh-CN"})
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "7"
        page = refused.get_data(as_text=True)
        kept = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
        assert kept == answers
        assert "数据库" in page and "再次提交" in page and 'action="/s/r"' in page
    finally:
        blocker.unblock()

    def stored() -> tuple[int, int]:
        with app.app_context():
            responses = db.session.execute(text("SELECT count(*) FROM survey_response")).scalar_one()
            used = db.session.execute(
                text("SELECT count(*) FROM survey_invitation WHERE used_at IS NOT NULL")
            ).scalar_one()
            db.session.remove()
            return responses, used

    assert stored() == (0, 0)  # nothing half-saved
    again = respondent.post("/s/r", data=kept)  # the "send again" button
    assert again.status_code == 303 and again.location.split("?")[0].endswith("/s/done")
    assert stored() == (1, 1)
