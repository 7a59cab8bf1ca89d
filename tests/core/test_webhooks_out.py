"""Webhooks out (issue 16): a real local HTTP receiver gets Standard Webhooks requests that verify with
the ``standardwebhooks`` library; a receiver failing three times gets the message on the fourth try,
and the delivery log shows all four; rotation, auto-disabling and replay."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.core.models.base import utcnow
from perception.core.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookSubscription
from perception.core.webhooks import WebhookSettings, deliver_due, emit, new_secret, replay, rotate_secret


class Receiver:
    """An HTTP server on a free local port answering ``fail_first`` requests with 500, then 204."""

    def __init__(self, fail_first: int) -> None:
        self.fail_first, self.received = fail_first, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers.items()), body))
                self.send_response(500 if len(outer.received) <= outer.fail_first else 204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver(fail_first=3)
    yield made
    made.close()


def subscribe(session: Any, url: str, *types: str) -> WebhookSubscription:
    subscription = WebhookSubscription(url=url, event_types=list(types), secret=new_secret())
    session.add(subscription)
    session.flush()
    return subscription


def test_a_receiver_failing_three_times_gets_the_signed_message_on_the_fourth_try(
    db_session: Any, receiver: Receiver
) -> None:
    from standardwebhooks.webhooks import Webhook

    subscription = subscribe(db_session, receiver.url, "report.submitted")
    settings = WebhookSettings(max_attempts=6, backoff_seconds=30)
    start = utcnow()
    [delivery_id] = emit(db_session, "report.submitted", {"report_id": 7, "week_start": "2026-03-02"}, start)
    # the first try went out after the commit; three more as the back-off (30 s, 60 s, 120 s) comes due
    assert deliver_due(db_session, start + timedelta(seconds=10), settings) == 0  # not yet due: nothing sent
    moments = [start + timedelta(seconds=31), start + timedelta(seconds=92), start + timedelta(seconds=213)]
    results = [deliver_due(db_session, moment, settings) for moment in moments]
    assert results == [0, 0, 1] and len(receiver.received) == 4
    verifier = Webhook(subscription.secret)
    ids = set()
    for headers, body in receiver.received:
        lowered = {k.lower(): v for k, v in headers.items()}
        assert verifier.verify(body, lowered)["data"] == {"report_id": 7, "week_start": "2026-03-02"}
        ids.add(lowered["webhook-id"])
    assert len(ids) == 1  # the same message id on every try: the receiver can de-duplicate
    delivery = db_session.get(WebhookDelivery, delivery_id)
    assert (delivery.status, delivery.attempts) == ("delivered", 4)
    log = db_session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id)
                             .order_by(WebhookAttempt.id)).all()  # fmt: skip
    assert [a.status_code for a in log] == [500, 500, 500, 204]
    assert all(a.seconds >= 0 for a in log)
    assert db_session.get(WebhookSubscription, subscription.id).consecutive_failures == 0


def test_a_rotated_secret_signs_with_both_until_the_overlap_ends(db_session: Any) -> None:
    from standardwebhooks.webhooks import Webhook

    receiver = Receiver(fail_first=0)
    try:
        subscription = subscribe(db_session, receiver.url, "report.returned")
        old = subscription.secret
        new = rotate_secret(subscription, utcnow())
        emit(db_session, "report.returned", {"report_id": 1})
        headers, body = receiver.received[0]
        lowered = {k.lower(): v for k, v in headers.items()}
        assert len(lowered["webhook-signature"].split(" ")) == 2
        assert Webhook(old).verify(body, lowered) and Webhook(new).verify(body, lowered)
    finally:
        receiver.close()


def test_a_run_of_failures_disables_the_subscription_and_an_owner_replays(
    app: Any, db_session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in (
        ("WEBHOOK_MAX_ATTEMPTS", 2),
        ("WEBHOOK_BACKOFF_SECONDS", 1),
        ("WEBHOOK_DISABLE_AFTER", 3),
    ):
        monkeypatch.setitem(app.config, key, value)
    receiver = Receiver(fail_first=100)
    try:
        subscription = subscribe(db_session, receiver.url, "review.signed")
        settings = WebhookSettings.from_config(app.config)
        now = utcnow()
        first = emit(db_session, "review.signed", {"review": "2026-H1"}, now)[0]
        deliver_due(db_session, utcnow() + timedelta(seconds=2), settings)
        assert db_session.get(WebhookDelivery, first).status == "failed"  # two tries, both 500
        second = emit(db_session, "review.signed", {"review": "2026-H2"}, now)[0]
        assert not db_session.get(WebhookSubscription, subscription.id).active  # third failure in a row
        assert db_session.get(WebhookDelivery, second).status == "pending"
        assert len(receiver.received) == 3
        receiver.fail_first = 0
        receiver.received.clear()
        replay(db_session, db_session.get(WebhookDelivery, first), now)
        assert (
            deliver_due(db_session, utcnow() + timedelta(seconds=5), settings) == 2
        )  # the replay and the held one
        assert db_session.get(WebhookDelivery, first).status == "delivered"
    finally:
        receiver.close()


def test_submitting_a_weekly_report_emits_report_submitted(db_session: Any, org: dict[str, Any]) -> None:
    from perception.collection.services.reports import put_report

    receiver = Receiver(fail_first=0)
    try:
        subscribe(db_session, receiver.url, "report.submitted")
        put_report(db_session, org["R1"]["point"], date(2026, 3, 2),
                   [{"kind": "requirement", "customer": "R1-C", "text": "移动端"}], None, submit=True,
                   source="api", now=datetime(2026, 3, 6, 9, 0))  # fmt: skip
        import json

        event = json.loads(receiver.received[0][1])
        assert event["type"] == "report.submitted" and event["data"]["week_start"] == "2026-03-02"
    finally:
        receiver.close()


def test_the_owner_manages_subscriptions_and_reads_the_log_from_the_cli(
    db_session: Any, runner: Any, receiver: Receiver
) -> None:
    added = runner.invoke(args=["webhooks", "add", receiver.url, "--event", "alert.raised"])
    assert added.exit_code == 0 and "secret: whsec_" in added.output, added.output
    subscription_id = int(added.output.split()[1])
    assert receiver.url in runner.invoke(args=["webhooks", "list"]).output
    [delivery_id] = emit(db_session, "alert.raised", {"alert_id": 1})
    log = runner.invoke(args=["webhooks", "log", str(subscription_id)])
    assert "alert.raised" in log.output and "500" in log.output, log.output
    rotated = runner.invoke(args=["webhooks", "rotate", str(subscription_id)])
    assert rotated.exit_code == 0 and "whsec_" in rotated.output
    bad = runner.invoke(args=["webhooks", "add", "ftp://x", "--event", "alert.raised"])
    assert bad.exit_code != 0 and "https://" in bad.output
    assert delivery_id


def test_the_owner_adds_a_subscription_reads_the_log_and_replays_on_the_pages(
    client: Any, db_session: Any, make_user: Any, receiver: Receiver
) -> None:
    from tests.conftest import csrf_token, login

    make_user("boss", "system_owner")
    login(client, "boss")
    page = "/admin/webhooks"
    added = client.post(page, data={"csrf_token": csrf_token(client, page), "url": receiver.url,
                                    "events": ["alert.raised", "review.signed"]})  # fmt: skip
    assert added.status_code == 200 and "whsec_" in added.get_data(as_text=True)
    subscription = db_session.scalar(select(WebhookSubscription))
    assert subscription.event_types == ["alert.raised", "review.signed"]
    [delivery_id] = emit(db_session, "alert.raised", {"alert_id": 3})
    log = client.get(f"/admin/webhooks/{subscription.id}").get_data(as_text=True)
    assert "alert.raised" in log and "500" in log
    replayed = client.post(f"/admin/webhooks/deliveries/{delivery_id}/replay",
                           data={"csrf_token": csrf_token(client, page)})  # fmt: skip
    assert replayed.status_code == 302 and len(receiver.received) == 2
    assert client.post(page, data={"csrf_token": csrf_token(client, page), "url": "not a url",
                                   "events": ["alert.raised"]}).status_code == 200  # fmt: skip
    assert db_session.scalar(select(func.count()).select_from(WebhookSubscription)) == 1
    make_user("ana", "analyst")
    other = client.application.test_client()
    login(other, "ana")
    assert other.get(page).status_code in (403, 404)
