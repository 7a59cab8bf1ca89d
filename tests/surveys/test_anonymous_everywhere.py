"""Nothing stored about an anonymous response is finer than the response itself (issue 18).

An anonymous response keeps only its day, so that an access log (time, address, path) cannot
name the person who answered. Today the follow-up task of a low score and the audit rows stored
the exact time next to the response id. This test submits anonymous answers through the public
link, one of them low enough to open a follow-up, then compares EVERY table of the metadata with
a snapshot taken before: every datetime of every row that appeared or changed must be a day
(midnight), and nothing the application logged names the response or its task.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, select

from perception.surveys.models import FollowUpTask, Response


def snapshot(session: Any) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
    from perception.core.extensions import db

    out: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
    for table in db.metadata.sorted_tables:
        keys = [c.name for c in table.primary_key.columns] or [c.name for c in table.columns]
        rows = session.execute(select(table)).mappings().all()
        out[table.name] = {tuple(row[k] for k in keys): dict(row) for row in rows}
    return out


def finer_than_a_day(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Datetimes of rows that appeared or changed which carry a time of day."""
    from perception.core.extensions import db

    found = []
    for table in db.metadata.sorted_tables:
        stamps = [c.name for c in table.columns if isinstance(c.type, DateTime)]
        for key, row in after[table.name].items():
            old = before[table.name].get(key)
            for name in stamps:
                value = row[name]
                if value is None or (old is not None and old[name] == value):
                    continue
                if isinstance(value, datetime) and value.time() != datetime.min.time():
                    found.append(f"{table.name}.{name} = {value.isoformat()} (row {key})")
    return found


def test_no_table_and_no_log_line_is_finer_than_the_day(
    app, db_session, make_campaign, post_page, caplog, monkeypatch
):
    from perception.core.models.webhooks import WebhookSubscription

    # A webhook subscriber too: its queued deliveries are rows about the answers as well.
    db_session.add(
        WebhookSubscription(
            url="http://127.0.0.1:9/hook",
            event_types=["response.scored", "followup.created"],
            secret="s" * 32,
        )
    )
    db_session.commit()
    campaign = make_campaign(channel="anonymous", csat_threshold=2)
    # A moment with a time of day, as an access log would show it (14:37:21.5 in Asia/Shanghai).
    moment = (campaign.opens_at + timedelta(days=1)).replace(
        hour=6, minute=37, second=21, microsecond=500_000
    )
    monkeypatch.setitem(app.config, "CLOCK_NOW", moment)
    path = f"/s/a/{campaign.public_slug}"
    before = snapshot(db_session)
    caplog.set_level(logging.DEBUG)
    for answers in (
        {"csat": "1", "low_reasons": "slow_response", "improve": "太慢了，等了两天"},  # opens a follow-up
        {"csat": "5"},
    ):
        client = app.test_client()  # each respondent their own browser
        done = post_page(client, path, answers, html=client.get(path).get_data(as_text=True))
        assert done.status_code == 303 and done.location.split("?")[0].endswith("/s/done")
    db_session.expire_all()
    responses = db_session.scalars(select(Response).where(Response.campaign_id == campaign.id)).all()
    task = db_session.scalar(select(FollowUpTask).where(FollowUpTask.campaign_id == campaign.id))
    assert len(responses) == 2 and task is not None and task.response_id in {r.id for r in responses}

    leaks = finer_than_a_day(before, snapshot(db_session))
    assert not leaks, "finer than the day:\n" + "\n".join(leaks)
    from perception.core.models.webhooks import WebhookDelivery

    deliveries = db_session.scalars(select(WebhookDelivery)).all()
    assert {d.event_type for d in deliveries} == {"response.scored", "followup.created"}
    for delivery in deliveries:  # they point at no row and wait for the day to end
        assert delivery.payload["data"]["response_id"] is None
        assert delivery.next_attempt_at.date() > moment.date() and delivery.attempts == 0

    named = re.compile(
        r"\b(response|follow-?up|task)\b\D{0,20}\b("
        + "|".join(str(r.id) for r in responses)
        + f"|{task.id})\\b",
        re.IGNORECASE,
    )
    lines = [r.getMessage() for r in caplog.records]
    assert not [line for line in lines if named.search(line)], lines
