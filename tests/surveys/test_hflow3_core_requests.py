"""The respondent's personal flow runs on the request's Core connection, without an ORM Session
(issue 19), and keeps one transaction per request.

- On the rolled-back fixture: opening the link, the page, the answer POST and the thank-you page
  begin no ORM Session transaction (on main each of the first three built, began and closed one).
- On an app of its own with committed data (the production binding, not the test suite's one
  connection): a low score's follow-up job is enqueued through the ORM inside the answer's Core
  transaction and commits with it; an error after the answer's writes rolls all of them back, and
  the link can then still be used once.
The same two on PostgreSQL: tests/e2e/test_hflow3_core_requests_postgres.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import has_request_context
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from tests.surveys.conftest import seed_personal_link

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NONCE = re.compile(r'name="submission_nonce"[^>]*value="([^"]+)"')
LOW = {"csat": "1", "low_reasons": "slow_response"}  # a low score: a follow-up task and its job
INVITED = (
    ("CORE", "核心", "Core"),
    ("CORE-C", "客户", "Customer"),
    ("Corey", "core@example.com"),
    ("CORE", "核心", "Core"),
)


@pytest.fixture
def orm_begins() -> Iterator[list[str]]:
    """The requests (method and path) in which an ORM Session began a transaction."""
    from flask import request

    seen: list[str] = []

    def began(_session: Any, _transaction: Any, _connection: Any) -> None:
        if has_request_context():
            seen.append(f"{request.method} {request.path}")

    event.listen(Session, "after_begin", began)
    yield seen
    event.remove(Session, "after_begin", began)


def test_the_personal_flow_begins_no_orm_session(db_session, make_campaign, invite, client, orm_begins):
    from perception.surveys.models import Invitation, Response

    campaign = make_campaign(region="R1")
    token = invite(campaign)["r1@example.com"]
    opened = client.get(f"/s/t/{token}")
    assert opened.status_code == 303
    html = client.get(opened.headers["Location"]).get_data(as_text=True)
    body = {"csrf_token": CSRF.search(html).group(1), "submission_nonce": NONCE.search(html).group(1),
            "page": "0", "csat": "5"}  # fmt: skip
    answered = client.post("/s/r", data=body)
    assert answered.status_code == 303
    assert client.get(answered.headers["Location"]).status_code == 200
    assert orm_begins == []
    stored = db_session.scalar(select(Response).where(Response.campaign_id == campaign.id))
    assert stored is not None and stored.answers == {"csat": 5}
    assert db_session.scalar(select(Invitation.used_at).where(Invitation.campaign_id == campaign.id))


def own_app(url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]) -> Any:
    """An app on committed data whose requests bind their Sessions as in production; jobs go to
    the in-process background runner, as on a server without Redis."""
    from perception import create_app

    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path / "instance"))
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": options,
            "SECRET_KEY": "core-secret-key-which-is-long-enough-0123456789",
            "SURVEY_MIN_FILL_SECONDS": 0,
            "MAIL_BACKEND": "file",
            "REDIS_URL": None,
            "JOBS_BACKGROUND": True,
        }
    )


def _form(app: Any, token: str) -> tuple[Any, dict[str, str]]:
    client = app.test_client()
    assert client.get(f"/s/t/{token}").status_code == 303
    html = client.get("/s/r").get_data(as_text=True)
    return client, {"csrf_token": CSRF.search(html).group(1), "submission_nonce": NONCE.search(html).group(1),
                    "page": "0"}  # fmt: skip


def _counts(app: Any) -> tuple[int, int, int, bool]:
    from perception.core.extensions import db
    from perception.core.models.audit import AuditEntry
    from perception.core.models.jobs import Job
    from perception.surveys.models import Invitation, Response

    with app.app_context():
        try:
            return (
                db.session.scalar(select(func.count(Response.id))) or 0,
                db.session.scalar(select(func.count(Job.id)).where(Job.name == "assign_followup")) or 0,
                db.session.scalar(
                    select(func.count(AuditEntry.id)).where(AuditEntry.action == "survey_response")
                )
                or 0,
                db.session.scalar(select(Invitation.used_at)) is not None,
            )
        finally:
            db.session.remove()


def check_one_transaction(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error after the answer's writes undoes them all; then a low score stores the response and
    its follow-up job together, on the request's one connection."""
    from perception.surveys.respondent import views

    token = seed_personal_link(app, *INVITED, days=1)
    client, body = _form(app, token)

    def broken(*_args: Any) -> Any:
        raise RuntimeError("after the writes")

    with monkeypatch.context() as patch:
        patch.setattr(views, "_done", broken)
        assert client.post("/s/r", data={**body, **LOW}).status_code == 500
    assert _counts(app) == (0, 0, 0, False)

    answered = client.post("/s/r", data={**body, **LOW})
    assert answered.status_code == 303, answered.get_data(as_text=True)[:500]
    assert _counts(app) == (1, 1, 1, True)
    again = client.post("/s/r", data={**body, **LOW})  # the same submission again: no new rows
    assert again.status_code == 303
    assert _counts(app) == (1, 1, 1, True)


def test_one_transaction_per_core_request_sqlite(tmp_path, monkeypatch):
    from perception.core.extensions import db
    from perception.core.jobs.runner import stop_threads

    app = own_app(f"sqlite:///{tmp_path / 'core.sqlite'}", tmp_path, monkeypatch, {})
    try:
        check_one_transaction(app, monkeypatch)
    finally:
        stop_threads(app)  # the follow-up job's background thread, before its connections go
        with app.app_context():
            db.engine.dispose()
