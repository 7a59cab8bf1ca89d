"""Webhooks out: what happened here, sent to the systems that subscribed, signed as the Standard
Webhooks specification says (https://www.standardwebhooks.com).

- ``emit(session, event_type, data, now)`` is what a phase calls (after a response is scored, a
  report submitted, ...): one delivery row per active subscription to that event type, then the
  ``deliver_webhook`` job after the commit. The request that caused the event does not wait for the
  receiver: with Redis a worker delivers; the embedded mode delivers after the commit.
- Each request carries ``webhook-id`` (the message id, the same on every retry so the receiver can
  de-duplicate), ``webhook-timestamp`` (Unix seconds) and ``webhook-signature``: ``v1,<base64
  HMAC-SHA256 of "<id>.<timestamp>.<body>">`` under the base64-decoded ``whsec_`` secret; during a
  rotation the previous secret's signature is sent too, space-separated, until ``previous_until``.
- A 2xx answer delivers; anything else (or no answer within the timeout) schedules the next try
  after ``backoff * 2**(attempt-1)`` seconds, up to ``max_attempts``; ``deliver_due_webhooks`` (the
  scheduler, or a worker) sends what is due. A run of ``disable_after`` failed attempts in a row
  disables the subscription. Every attempt is logged; an owner may replay a delivery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from perception.core.jobs import enqueue, job
from perception.core.models.base import utcnow
from perception.core.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookSubscription
from perception.core.transaction import Db, after_commit

EVENT_TYPES = (
    "response.scored",  # a survey response with its scores
    "followup.created",  # a low-score follow-up task
    "alert.raised",
    "report.submitted",
    "report.returned",
    "opportunity.handed_over",  # an opportunity handed to market expansion
    "standard.confirmed",
    "review.signed",
)


@dataclass(frozen=True)
class WebhookSettings:
    max_attempts: int = 6
    backoff_seconds: float = 30.0
    disable_after: int = 20
    timeout_seconds: float = 5.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WebhookSettings:
        return cls(
            max_attempts=int(config.get("WEBHOOK_MAX_ATTEMPTS") or cls.max_attempts),
            backoff_seconds=float(config.get("WEBHOOK_BACKOFF_SECONDS") or cls.backoff_seconds),
            disable_after=int(config.get("WEBHOOK_DISABLE_AFTER") or cls.disable_after),
            timeout_seconds=float(config.get("WEBHOOK_TIMEOUT_SECONDS") or cls.timeout_seconds),
        )


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers_for(
    subscription: WebhookSubscription, message_id: str, body: bytes, now: datetime
) -> dict[str, str]:
    timestamp = int(time.time())
    signatures = [signature(subscription.secret, message_id, timestamp, body)]
    if subscription.previous_secret and subscription.previous_until and now < subscription.previous_until:
        signatures.append(signature(subscription.previous_secret, message_id, timestamp, body))
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }


def rotate_secret(
    subscription: WebhookSubscription, now: datetime, overlap: timedelta = timedelta(hours=24)
) -> str:
    """A new secret; the old one keeps signing alongside for ``overlap`` so receivers can switch."""
    subscription.previous_secret, subscription.previous_until = subscription.secret, now + overlap
    subscription.secret = new_secret()
    return subscription.secret


_SUBSCRIPTIONS = cast(Table, WebhookSubscription.__table__)
_ACTIVE = select(_SUBSCRIPTIONS.c.id, _SUBSCRIPTIONS.c.event_types).where(_SUBSCRIPTIONS.c.active.is_(True))
_DELIVERIES = cast(Table, WebhookDelivery.__table__)
_NEW_DELIVERY = insert(_DELIVERIES).returning(_DELIVERIES.c.id)


def emit(
    session: Db,
    event_type: str,
    data: Mapping[str, Any],
    now: datetime | None = None,
    *,
    not_before: datetime | None = None,
) -> list[int]:
    """Queue ``event_type`` with ``data`` for every active subscription to it; returns delivery ids.

    With ``not_before`` the deliveries wait for the periodic sender until then instead of leaving
    right after the commit: an anonymous answer's events go out after its day has ended, so no
    delivery time can be matched against an access log (issue 18)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    moment = now or utcnow()
    # Core, not the ORM entities: every stored answer runs this (on the answer endpoint's Core
    # connection, with no Session), and there is usually no subscription at all. A delivery is not
    # audited, so inserting its row with Core is all the ORM did.
    subscriptions = [
        subscription_id for subscription_id, types in session.execute(_ACTIVE) if event_type in (types or [])
    ]
    ids = []
    for subscription_id in subscriptions:
        message_id = "msg_" + secrets.token_hex(12)
        payload = {"type": event_type, "timestamp": moment.isoformat() + "Z", "data": dict(data)}
        row = {
            "subscription_id": subscription_id, "message_id": message_id, "event_type": event_type,
            "payload": payload, "status": "pending", "attempts": 0, "next_attempt_at": not_before or moment,
            "created_at": moment,
        }  # fmt: skip
        ids.append(int(session.execute(_NEW_DELIVERY, [row]).scalar_one()))
    if not_before is None:
        for delivery_id in ids:
            after_commit(_sender(delivery_id))
    return ids


def _sender(delivery_id: int) -> Callable[[], None]:
    return lambda: enqueue_after_commit(delivery_id)


def enqueue_after_commit(delivery_id: int) -> None:
    """Hand the delivery to the job queue: a worker with Redis, else a background thread of the
    service, so the request that caused the event never waits for the receiver (up to the
    timeout). Where nothing runs in the background (a CLI command, a job, or tests with
    JOBS_BACKGROUND off) it is sent now, in a transaction of its own."""
    from perception.core.jobs import in_background
    from perception.core.transaction import unit_of_work

    if in_background():
        enqueue("deliver_webhook", delivery_id=delivery_id)
        return
    with unit_of_work() as session:
        deliver(session, delivery_id, utcnow(), WebhookSettings.from_config(current_app.config))


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int | None, str | None]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - owner's URL
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return answer.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return None, f"{exc.__class__.__name__}: {exc}"[:500]


def deliver(session: Session, delivery_id: int, now: datetime, settings: WebhookSettings) -> bool:
    """One attempt of a pending delivery; True when the receiver answered 2xx."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status != "pending":
        return False
    subscription = delivery.subscription
    if not subscription.active:
        return False
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    started = time.perf_counter()
    status, error = _post(subscription.url, body, headers_for(subscription, delivery.message_id, body, now),
                          settings.timeout_seconds)  # fmt: skip
    ok = status is not None and 200 <= status < 300
    session.add(WebhookAttempt(delivery_id=delivery.id, at=now, status_code=status, error=error,
                               seconds=round(time.perf_counter() - started, 4)))  # fmt: skip
    delivery.attempts += 1
    if ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
        subscription.consecutive_failures = 0
    else:
        subscription.consecutive_failures += 1
        if delivery.attempts >= settings.max_attempts:
            delivery.status, delivery.next_attempt_at = "failed", None
        else:
            delay = settings.backoff_seconds * 2 ** (delivery.attempts - 1)
            delivery.next_attempt_at = now + timedelta(seconds=delay)
        if subscription.consecutive_failures >= settings.disable_after:
            subscription.active, subscription.disabled_at = False, now
    session.flush()
    return ok


def deliver_due(session: Session, now: datetime, settings: WebhookSettings, limit: int = 200) -> int:
    """Attempt every pending delivery whose time has come; returns how many were delivered."""
    due = session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
    ).all()
    return sum(deliver(session, delivery_id, now, settings) for delivery_id in due)


def replay(session: Session, delivery: WebhookDelivery, now: datetime) -> WebhookDelivery:
    """Send a delivered or failed message again (same id: the receiver may de-duplicate)."""
    delivery.status, delivery.next_attempt_at = "pending", now
    delivery.subscription.active = True
    session.flush()
    return delivery


@job("deliver_webhook")
def deliver_webhook_job(session: Session, delivery_id: int, **_: Any) -> bool:
    return deliver(session, int(delivery_id), utcnow(), WebhookSettings.from_config(current_app.config))


@job("deliver_due_webhooks")
def deliver_due_webhooks_job(session: Session, **_: Any) -> int:
    return deliver_due(session, utcnow(), WebhookSettings.from_config(current_app.config))
