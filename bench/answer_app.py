"""WSGI apps served by gunicorn for bench/bench_answer.py.

- ``app``: the real Perception app (configured from PERCEPTION_* environment variables); the
  benchmark posts to its answer endpoint /s/r with a prepared session cookie and form.
- ``bare``: the baseline: a bare Flask endpoint that inserts the same rows (invitation consumed
  with the same conditional UPDATE, the response, its observation rows, a comment, the audit
  row) with SQLAlchemy Core, and nothing else: no session, CSRF, validation, idempotency check,
  follow-up logic or templates.
"""

from __future__ import annotations

import os
import secrets
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask, redirect, request  # noqa: E402
from sqlalchemy import create_engine, insert, update  # noqa: E402

from perception import create_app  # noqa: E402
from perception.core.db import instrument_sqlite, sqlite_connect_args  # noqa: E402
from perception.core.models.base import Base  # noqa: E402

app = create_app()


def _bare() -> Flask:
    url = os.environ["PERCEPTION_DATABASE_URL"]
    options = {"connect_args": sqlite_connect_args()} if url.startswith("sqlite") else {"pool_pre_ping": True}
    engine = create_engine(url, **options)  # type: ignore[arg-type]
    instrument_sqlite(engine)
    t = Base.metadata.tables
    invitation, response, observation = (
        t["survey_invitation"],
        t["survey_response"],
        t["experience_observation"],
    )
    text_entry, audit = t["text_entry"], t["audit_entry"]
    bare = Flask("bare")

    @bare.post("/bare/<int:invitation_id>")
    def answer(invitation_id: int) -> Any:
        form = request.form
        csat, ces, comment = int(form["csat"]), int(form.get("ces") or 0), form.get("improve") or ""
        now = datetime.now(UTC).replace(tzinfo=None)
        today = now.date()
        monday = today - timedelta(days=today.weekday())
        with engine.begin() as conn:
            row = conn.execute(
                update(invitation)
                .where(invitation.c.id == invitation_id, invitation.c.used_at.is_(None))
                .values(used_at=now)
                .returning(invitation.c.campaign_id, invitation.c.region_id, invitation.c.customer_id)
            ).first()
            if row is None:
                return "used", 200
            campaign_id, region_id, customer_id = row
            answers = {"csat": csat, "ces": ces, **({"improve": comment} if comment else {})}
            response_id = conn.execute(
                insert(response).returning(response.c.id),
                [
                    {
                        "campaign_id": campaign_id,
                        "version_id": int(form["v"]),
                        "invitation_id": invitation_id,
                        "region_id": region_id,
                        "customer_id": customer_id,
                        "means": "survey",
                        "language": "zh",
                        "answers": answers,
                        "submission_nonce": secrets.token_urlsafe(16),
                        "submitted_at": now,
                        "observed_on": today,
                    }
                ],
            ).scalar_one()
            facts = [("csat", csat, 1, 5)] + ([("ces", ces, 1, 7)] if ces else [])
            conn.execute(
                insert(observation),
                [
                    {
                        "source": "survey",
                        "source_id": response_id,
                        "observed_on": today,
                        "period_start": monday,
                        "region_id": region_id,
                        "customer_id": customer_id,
                        "kind": kind,
                        "item": kind,
                        "value": value,
                        "scale_min": low,
                        "scale_max": high,
                    }
                    for kind, value, low, high in facts
                ],
            )
            if comment:
                conn.execute(
                    insert(text_entry),
                    [
                        {
                            "source": "survey",
                            "source_id": response_id,
                            "kind": "survey_comment",
                            "observed_on": today,
                            "period_start": monday,
                            "region_id": region_id,
                            "customer_id": customer_id,
                            "text": comment,
                        }
                    ],
                )
            conn.execute(
                insert(audit),
                [
                    {
                        "at": now,
                        "actor_name": "respondent",
                        "action": "survey_response",
                        "object_type": "Response",
                        "object_id": str(response_id),
                        "region_id": region_id,
                        "summary": "survey response",
                    }
                ],
            )
        return redirect("/s/done", 303)

    return bare


bare = _bare()
