"""50 parallel submissions of one personal link store exactly one response.

A real multi-connection test: its own app on committed data (a temporary SQLite file here; the
same race on PostgreSQL in its own schema: tests/e2e/test_surveys_race_postgres.py), 50 threads
each with its own browser session and connection, released together by a barrier. Not the
rolled-back fixture, which would serialise everything on one connection.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.surveys.conftest import seed_personal_link

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NONCE = re.compile(r'name="submission_nonce"[^>]*value="([^"]+)"')
PARALLEL = 50
# The one invited contact: region, customer, contact and campaign (see seed_personal_link).
INVITED = (
    ("RACE", "赛区", "Race"),
    ("RACE-C", "客户", "Customer"),
    ("Racer", "race@example.com"),
    ("RACE", "并发", "Race"),
)


def _app(url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]) -> Any:
    from perception import create_app

    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path / "instance"))
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": options,
            "SECRET_KEY": "race-secret-key-which-is-long-enough-0123456789",
            "SURVEY_MIN_FILL_SECONDS": 0,
            "MAIL_BACKEND": "file",
        }
    )


def _race(app: Any, token: str) -> list[int]:
    """Every client opens the link and renders its own form (own nonce); then all POST at once."""
    clients = []
    for _ in range(PARALLEL):
        client = app.test_client()
        assert client.get(f"/s/t/{token}").status_code == 303
        html = client.get("/s/r").get_data(as_text=True)
        clients.append((client, CSRF.search(html).group(1), NONCE.search(html).group(1)))
    # Half of them replay the first client's nonce, as a double click or a retried POST would.
    shared = clients[0][2]
    barrier = threading.Barrier(PARALLEL)
    statuses: list[int] = [0] * PARALLEL

    def submit(i: int) -> None:
        client, csrf, nonce = clients[i]
        body = {"csrf_token": csrf, "submission_nonce": shared if i % 2 else nonce, "page": "0", "csat": "5"}
        barrier.wait()
        statuses[i] = client.post("/s/r", data=body).status_code

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


def _check(app: Any, statuses: list[int]) -> None:
    from perception.core.extensions import db
    from perception.core.models.audit import AuditEntry
    from perception.core.models.facts import ExperienceObservation
    from perception.surveys.models import Invitation, Response

    assert all(code in (200, 303) for code in statuses), statuses  # stored, duplicate or "already answered"
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 1
        response = db.session.scalar(select(Response))
        assert db.session.scalar(select(Invitation.used_at)) is not None
        assert db.session.scalar(select(func.count(ExperienceObservation.id))) == 1
        audits = db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "survey_response")
        )
        assert audits == 1 and response.answers == {"csat": 5}
        db.session.remove()


def test_parallel_submits_sqlite(tmp_path, monkeypatch):
    from perception.core.extensions import db

    app = _app(f"sqlite:///{tmp_path / 'race.sqlite'}", tmp_path, monkeypatch, {})
    try:
        token = seed_personal_link(app, *INVITED, days=1)
        _check(app, _race(app, token))
    finally:
        with app.app_context():
            db.engine.dispose()
