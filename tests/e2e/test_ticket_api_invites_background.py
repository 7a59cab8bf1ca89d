"""Issue 16: "a closed ticket posted through the API had no invitation after 130 s". Served as in
production without Redis (jobs in a background thread, on a SQLite file of its own, so the job's
thread reads what the request committed): the API answers first, and the invitation and its mail
follow from the job, not from a daily run."""

from __future__ import annotations

import email
import email.policy
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select


@pytest.fixture
def served(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from perception import create_app
    from perception.core import users
    from perception.core.extensions import db
    from perception.core.jobs.runner import start_sweeper, stop_threads
    from perception.core.models.auth import Role
    from perception.core.models.base import utcnow
    from perception.core.models.org import Contact, CustomerOrg, Region
    from perception.core.transaction import unit_of_work
    from perception.setup.models.catalog import Service
    from perception.surveys.models import CampaignStatus
    from perception.surveys.services.campaigns import create_campaign
    from perception.surveys.services.definitions import ensure_builtin_surveys

    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path))
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'invites.sqlite'}",
            "SECRET_KEY": "test-secret-key-which-is-long-enough-0123456789",
            "REDIS_URL": None,
            "JOBS_BACKGROUND": True,
            "JOB_SWEEP_SECONDS": 0.2,
            "MAIL_BACKEND": "file",
        }
    )
    with app.app_context():
        db.create_all()
        with unit_of_work() as session:
            region = Region(code="R1", name_zh="北京", name_en="Beijing")
            session.add(region)
            session.flush()
            customer = CustomerOrg(
                code="R1-C", name_zh="北京客户", name_en="Beijing customer", region_id=region.id
            )
            session.add_all([customer, Service(code="DESK", name_zh="服务台", name_en="Service desk")])
            session.flush()
            session.add(
                Contact(customer_id=customer.id, region_id=region.id, name="Li", email="li@example.com")
            )
            version = ensure_builtin_surveys(session)["csat_transactional"]
            now = utcnow()
            campaign = create_campaign(
                session,
                {"code": "TX", "name_zh": "工单回访", "name_en": "After a ticket", "version_id": version.id,
                 "kind": "transactional", "channel": "personal", "region_id": None,
                 "opens_at": now - timedelta(days=1), "closes_at": now + timedelta(days=30)},
                None,
            )  # fmt: skip
            campaign.status = CampaignStatus.OPEN
            analyst = users.create_user(
                session,
                users.UserSpec(username="ana", display_name="Ana", roles=frozenset({Role.ANALYST}),
                               password="correct horse battery"),
            )  # fmt: skip
            _, token = users.issue_token(session, analyst, "t")
    start_sweeper(app)
    yield app, token
    stop_threads(app)
    with app.app_context():
        db.engine.dispose()


def test_the_api_answers_and_the_invitation_follows_from_a_background_job(served: Any) -> None:
    from perception.core.extensions import db
    from perception.core.models.base import utcnow
    from perception.surveys.models import Invitation

    app, token = served
    closed = utcnow() - timedelta(minutes=1)
    ticket = {
        "id": "INC0012345", "service": "DESK", "customer": "R1-C", "priority": "P3",
        "contact": "li@example.com",
        "opened": (closed - timedelta(hours=2)).isoformat() + "Z", "resolved": closed.isoformat() + "Z",
        "closed": closed.isoformat() + "Z", "status": "closed",
    }  # fmt: skip
    started = time.monotonic()
    answer = app.test_client().post(
        "/api/v1/kpi/tickets", json={"tickets": [ticket]}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 201, answer.get_json()
    count, mail = 0, []
    folder = Path(app.instance_path) / "mail"
    while time.monotonic() - started < 120:  # a bound for a stuck job, not a speed requirement
        with app.app_context():
            count = db.session.scalar(select(func.count()).select_from(Invitation)) or 0
            db.session.remove()
        mail = sorted(folder.glob("*.eml")) if folder.exists() else []
        if count and mail:
            break
        time.sleep(0.05)
    print(f"invitation mailed {time.monotonic() - started:.3f} s after the API call began")  # noqa: T201
    assert count == 1 and len(mail) == 1
    message = email.message_from_bytes(mail[0].read_bytes(), policy=email.policy.default)
    assert "INC0012345" in message.get_content()  # type: ignore[attr-defined]
