"""WSGI apps served by gunicorn for bench/bench_flow.py (the respondent's whole flow).

- ``product``: the real Perception app (configured from PERCEPTION_* environment variables).
- ``same_steps``: a bare Flask app taking the steps the product's design needs and nothing
  more: open the link (the link lookup, the "opened" UPDATE, a signed cookie session, a 303; as
  the product, only an unknown token is counted against its address), the page (the
  invitation's state and draft SELECTs, a CSRF token kept in the session, the product's page
  as precomputed bytes with the token and a nonce put in), the POST (CSRF check, the same
  consuming UPDATE and INSERTs as the product, a 303) and the thank-you page (no SQL, as the
  product's: precomputed bytes). No templates, forms, validation or audit logic.
- ``minimal``: the two-request app of the issue's first measurement: GET the form (the link
  lookup, precomputed bytes), POST the answers (the same INSERTs); no session, no CSRF.

The precomputed pages are the product's own bytes, written by bench_flow.py into FLOW_HTML_DIR
(``page_<version>.html`` with @@CSRF@@ and @@NONCE@@ where the product puts its values).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask, Response, abort, redirect, request, session  # noqa: E402
from flask_wtf.csrf import generate_csrf, validate_csrf  # noqa: E402
from sqlalchemy import create_engine, event, insert, select, update  # noqa: E402
from wtforms.validators import ValidationError  # noqa: E402

from perception import create_app  # noqa: E402
from perception.core.db import _sqlite_pragmas, sqlite_connect_args  # noqa: E402
from perception.core.models import audit, facts  # noqa: E402,F401 - their tables
from perception.core.models.base import Base  # noqa: E402
from perception.surveys import models  # noqa: E402,F401 - their tables

URL = os.environ["PERCEPTION_DATABASE_URL"]
HTML = Path(os.environ.get("FLOW_HTML_DIR", "."))
T = Base.metadata.tables
LINK, INV, CAMP = T["survey_link"], T["survey_invitation"], T["survey_campaign"]
VERSION, DRAFT = T["survey_version"], T["survey_response_draft"]
RESPONSE, OBS, TEXT, AUDIT = (
    T["survey_response"],
    T["experience_observation"],
    T["text_entry"],
    T["audit_entry"],
)
# Scale questions of the bench's questionnaires (name -> (kind, min, max)); others are text.
SCALES = {"csat": ("csat", 1, 5), "ces": ("ces", 1, 7), **{f"q{i}": ("rating", 1, 5) for i in range(1, 10)}}


WRITER = threading.local()  # set while a request writes: on SQLite it takes its turn up front


def _engine() -> Any:
    if not URL.startswith("sqlite"):
        return create_engine(URL, pool_pre_ping=True)
    engine = create_engine(URL, connect_args=sqlite_connect_args())
    event.listen(engine, "connect", _sqlite_pragmas)

    @event.listens_for(engine, "begin")
    def begin(conn: Any) -> None:  # as the product's writers do (perception/core/db.py)
        if getattr(WRITER, "on", False):
            conn.connection.dbapi_connection.begin_immediate()
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


@contextmanager
def writing(engine: Any) -> Iterator[Any]:
    WRITER.on = True
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        WRITER.on = False


def _pages() -> dict[int, bytes]:
    return {int(p.stem.split("_")[1]): p.read_bytes() for p in HTML.glob("page_*.html")}


def _thanks() -> dict[int, bytes]:
    return {int(p.stem.split("_")[1]): p.read_bytes() for p in HTML.glob("thanks_*.html")}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _link_row(conn: Any, token: str) -> Any:
    return conn.execute(
        select(
            LINK.c.expires_at,
            INV.c.id,
            INV.c.expires_at,
            INV.c.used_at,
            CAMP.c.id,
            CAMP.c.status,
            CAMP.c.opens_at,
            CAMP.c.closes_at,
            VERSION.c.id,
            VERSION.c.fingerprint,
        )
        .join(INV, INV.c.id == LINK.c.invitation_id)
        .join(CAMP, CAMP.c.id == INV.c.campaign_id)
        .join(VERSION, VERSION.c.id == CAMP.c.version_id)
        .where(LINK.c.token_hash == hashlib.sha256(token.encode()).hexdigest())
    ).first()


def _store(conn: Any, invitation_id: int, version_id: int, form: Any, now: datetime) -> bool:
    """The product's consuming UPDATE and its INSERTs (response, one fact per score, comment, audit)."""
    row = conn.execute(
        update(INV)
        .where(INV.c.id == invitation_id, INV.c.used_at.is_(None), INV.c.expires_at > now)
        .values(used_at=now)
        .returning(INV.c.campaign_id, INV.c.contact_id, INV.c.region_id, INV.c.customer_id)
    ).first()
    if row is None:
        return False
    campaign_id, contact_id, region_id, customer_id = row
    today = now.date()
    monday = today - timedelta(days=today.weekday())
    scores = {k: int(v) for k, v in form.items() if k in SCALES and v}
    texts = {k: v for k, v in form.items() if k not in SCALES and k in ("improve", "comment") and v}
    response_id = conn.execute(
        insert(RESPONSE).returning(RESPONSE.c.id),
        [
            {
                "campaign_id": campaign_id,
                "version_id": version_id,
                "invitation_id": invitation_id,
                "contact_id": contact_id,
                "region_id": region_id,
                "customer_id": customer_id,
                "means": "survey",
                "language": "zh",
                "answers": {**scores, **texts},
                "submission_nonce": form.get("submission_nonce"),
                "submitted_at": now,
                "observed_on": today,
            }
        ],
    ).scalar_one()
    where = {
        "source": "survey",
        "source_id": response_id,
        "observed_on": today,
        "period_start": monday,
        "region_id": region_id,
        "customer_id": customer_id,
    }
    conn.execute(
        insert(OBS),
        [
            {
                **where,
                "kind": SCALES[k][0],
                "item": k,
                "value": v,
                "scale_min": SCALES[k][1],
                "scale_max": SCALES[k][2],
            }
            for k, v in scores.items()
        ],
    )
    if texts:
        conn.execute(insert(TEXT), [{**where, "kind": "survey_comment", "text": t} for t in texts.values()])
    conn.execute(
        insert(AUDIT),
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
    return True


def _same_steps() -> Flask:
    engine, pages, thanks = _engine(), _pages(), _thanks()
    app = Flask("same_steps")
    app.secret_key = os.environ["PERCEPTION_SECRET_KEY"]

    @app.get("/b/t/<token>")
    def open_link(token: str) -> Any:
        now = _now()
        with writing(engine) as conn:
            row = _link_row(conn, token)
            if row is None or row[3] is not None:
                abort(404)
            conn.execute(
                update(INV).where(INV.c.id == row[1], INV.c.opened_at.is_(None)).values(opened_at=now)
            )
        session["survey_link"] = {"i": row[1], "v": row[8], "f": row[9], "t": now.timestamp()}
        return redirect("/b/r", 303)

    @app.route("/b/r", methods=["GET", "POST"])
    def respond() -> Any:
        state = session.get("survey_link")
        if not state:
            abort(404)
        invitation_id, version_id = state["i"], state["v"]
        if request.method == "POST":
            try:
                validate_csrf(request.form.get("csrf_token"))
            except ValidationError:
                abort(400)
            with writing(engine) as conn:
                if not _store(conn, invitation_id, version_id, request.form, _now()):
                    return "used", 200
            return Response(status=303, headers={"Location": f"/b/done?v={version_id}&f={state['f']}"})
        with engine.connect() as conn:
            conn.execute(
                select(INV.c.used_at, INV.c.expires_at, CAMP.c.status, CAMP.c.opens_at, CAMP.c.closes_at)
                .join(CAMP, CAMP.c.id == INV.c.campaign_id)
                .where(INV.c.id == invitation_id)
            ).first()
            conn.execute(
                select(DRAFT.c.answers, DRAFT.c.page_index).where(DRAFT.c.invitation_id == invitation_id)
            )
        body = pages[version_id].replace(b"@@CSRF@@", generate_csrf().encode())
        return Response(body.replace(b"@@NONCE@@", secrets.token_urlsafe(16).encode()), mimetype="text/html")

    @app.get("/b/done")
    def done() -> Any:
        version_id = request.args.get("v", type=int)
        body = thanks[version_id or 0].replace(b"@@CSRF@@", generate_csrf().encode())
        return Response(body, mimetype="text/html")

    return app


def _minimal() -> Flask:
    engine, pages = _engine(), _pages()
    app = Flask("minimal")

    @app.get("/m/<token>")
    def form(token: str) -> Any:
        with engine.connect() as conn:
            row = _link_row(conn, token)
        if row is None or row[3] is not None:
            abort(404)
        body = (
            pages[row[8]].replace(b"@@CSRF@@", b"-").replace(b"@@NONCE@@", secrets.token_urlsafe(16).encode())
        )
        return Response(body, mimetype="text/html")

    @app.post("/m/<token>")
    def answer(token: str) -> Any:
        with writing(engine) as conn:
            row = _link_row(conn, token)
            if row is None or not _store(conn, row[1], row[8], request.form, _now()):
                return "used", 200
        return Response(status=303, headers={"Location": "/m/done"})

    return app


product = create_app() if os.environ.get("FLOW_APP", "product") == "product" else None
same_steps = _same_steps() if os.environ.get("FLOW_APP") == "same_steps" else None
minimal = _minimal() if os.environ.get("FLOW_APP") == "minimal" else None
