"""A ticket closed and posted to the ticket API (``POST /api/v1/kpi/tickets``), not through a
service-desk connection, gets its transactional survey invitation at once, under the campaign's
sampling and the contact's frequency cap, the way a service-desk close does (issue 16: "a closed
ticket posted through the API had no invitation after 130 s": it waited for the daily job)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.core.models.base import utcnow
from perception.core.models.org import Contact
from perception.kpi.models import Ticket
from perception.surveys.models import Invitation


@pytest.fixture
def campaign(db_session: Any, catalog: dict[str, Any]) -> Any:
    from perception.surveys.models import CampaignStatus
    from perception.surveys.services.campaigns import create_campaign
    from perception.surveys.services.definitions import ensure_builtin_surveys

    version = ensure_builtin_surveys(db_session)["csat_transactional"]
    now = utcnow()
    made = create_campaign(
        db_session,
        {
            "code": "TX-API", "name_zh": "工单回访", "name_en": "After a ticket",
            "version_id": version.id, "kind": "transactional", "channel": "personal",
            "region_id": None, "opens_at": now - timedelta(days=1), "closes_at": now + timedelta(days=30),
        },
        None,
    )  # fmt: skip
    made.status = CampaignStatus.OPEN
    for n in range(1, 4):
        db_session.add(
            Contact(
                customer_id=catalog["R1"]["customer"].id,
                region_id=catalog["R1"]["region"].id,
                name=f"person {n}",
                email=f"p{n}@example.com",
            )
        )
    db_session.flush()
    return made


@pytest.fixture
def mailbox(app: Any) -> Any:
    from tests.surveys.conftest import Mailbox

    return Mailbox(Path(app.instance_path) / "mail")


@pytest.fixture
def bearer(db_session: Any, make_user: Any) -> dict[str, str]:
    from perception.core.users import issue_token

    _, token = issue_token(db_session, make_user("ana", "analyst"), "t")
    return {"Authorization": f"Bearer {token}"}


def ticket(
    ref: str, contact: str, *, closed_minutes_ago: int | None = 5, status: str = "closed"
) -> dict[str, str]:
    now = utcnow()
    opened = now - timedelta(minutes=(closed_minutes_ago or 0) + 120)
    row = {
        "id": ref, "service": "DESK", "customer": "R1-C", "priority": "P3", "contact": contact,
        "status": status, "opened": opened.isoformat() + "Z",
    }  # fmt: skip
    if closed_minutes_ago is not None:
        moment = (now - timedelta(minutes=closed_minutes_ago)).isoformat() + "Z"
        row |= {"resolved": moment, "closed": moment}
    return row


def invitations(db_session: Any) -> list[tuple[str, str]]:
    rows = db_session.execute(
        select(Ticket.external_id, Contact.email)
        .join(Invitation, Invitation.ticket_id == Ticket.id)
        .join(Contact, Contact.id == Invitation.contact_id)
        .order_by(Ticket.external_id)
    ).all()
    return [tuple(r) for r in rows]


def test_a_ticket_closed_through_the_api_is_invited_at_once(
    client: Any, db_session: Any, campaign: Any, bearer: dict[str, str], mailbox: Any
) -> None:
    done = client.post("/api/v1/kpi/tickets", json={"tickets": [ticket("API-1", "p1@example.com")]},
                       headers=bearer)  # fmt: skip
    assert done.status_code == 201, done.get_json()
    assert invitations(db_session) == [("API-1", "p1@example.com")]
    sent = [m for m in mailbox.new() if m["To"] == "p1@example.com"]
    assert len(sent) == 1


def test_an_open_ticket_then_its_close_invites_once_and_a_repost_changes_nothing(
    client: Any, db_session: Any, campaign: Any, bearer: dict[str, str]
) -> None:
    opened = ticket("API-2", "p1@example.com", closed_minutes_ago=None, status="in_progress")
    assert client.post("/api/v1/kpi/tickets", json={"tickets": [opened]}, headers=bearer).status_code == 201
    assert invitations(db_session) == []
    closed = ticket("API-2", "p1@example.com")
    assert client.post("/api/v1/kpi/tickets", json={"tickets": [closed]}, headers=bearer).status_code == 201
    assert invitations(db_session) == [("API-2", "p1@example.com")]
    again = client.post("/api/v1/kpi/tickets?allow_duplicate=1", json={"tickets": [closed]}, headers=bearer)
    assert again.status_code == 201
    assert invitations(db_session) == [("API-2", "p1@example.com")]


def test_the_frequency_cap_and_the_sampling_hold_and_a_dry_run_invites_nobody(
    client: Any, db_session: Any, campaign: Any, bearer: dict[str, str]
) -> None:
    from perception.surveys.services.tickets import sampled

    dry = client.post("/api/v1/kpi/tickets?dry_run=1", json={"tickets": [ticket("API-D", "p3@example.com")]},
                      headers=bearer)  # fmt: skip
    assert dry.status_code == 200 and invitations(db_session) == []
    # Two closes of the same person: the second falls under the contact's frequency cap.
    batch = [ticket("API-3", "p1@example.com"), ticket("API-4", "p1@example.com")]
    assert client.post("/api/v1/kpi/tickets", json={"tickets": batch}, headers=bearer).status_code == 201
    assert invitations(db_session) == [("API-3", "p1@example.com")]
    # A sampling rate that keeps neither of two tickets (computed with the sampler's own rule).
    campaign.sampling_rate = 0.5
    db_session.flush()
    refs = [f"API-S{n}" for n in range(40)]
    client.post("/api/v1/kpi/tickets", json={"tickets": [ticket(r, "p2@example.com") for r in refs]},
                headers=bearer)  # fmt: skip
    ids = dict(
        db_session.execute(select(Ticket.external_id, Ticket.id).where(Ticket.external_id.in_(refs))).all()
    )
    first_sampled = next(r for r in refs if sampled(campaign.id, ids[r], 0.5))
    assert invitations(db_session) == [("API-3", "p1@example.com"), (first_sampled, "p2@example.com")]


def test_a_history_ticket_closed_before_the_campaign_opened_is_not_invited(
    client: Any, db_session: Any, campaign: Any, bearer: dict[str, str]
) -> None:
    old = ticket("API-OLD", "p1@example.com", closed_minutes_ago=3 * 24 * 60)
    assert client.post("/api/v1/kpi/tickets", json={"tickets": [old]}, headers=bearer).status_code == 201
    assert db_session.scalar(select(func.count()).select_from(Invitation)) == 0
