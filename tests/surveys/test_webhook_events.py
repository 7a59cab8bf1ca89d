"""A live answer tells the webhook subscribers its scores (never who gave them); imported history
tells nobody (issue 16)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from perception.core.models.webhooks import WebhookDelivery, WebhookSubscription
from perception.core.webhooks import new_secret
from tests.surveys.conftest import store


def test_a_scored_response_and_its_followup_are_emitted_without_the_person(
    db_session: Any, versions: dict[str, Any], org: dict[str, Any]
) -> None:
    db_session.add(WebhookSubscription(url="http://127.0.0.1:9/unused", event_types=["response.scored",
                   "followup.created"], secret=new_secret()))  # fmt: skip
    db_session.flush()
    store(db_session, versions["csat_transactional"], {"csat": 1, "low_reasons": ["slow_response"]},
          contact=org["R1"]["contact"])  # fmt: skip
    events = {d.event_type: d.payload for d in db_session.scalars(select(WebhookDelivery))}
    assert set(events) == {"response.scored", "followup.created"}
    scored = events["response.scored"]["data"]
    assert scored["scores"] == [{"kind": "csat", "item": "csat", "value": 1.0}]
    assert "contact_id" not in scored and "r1@example.com" not in str(events)
