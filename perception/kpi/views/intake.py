"""The inbound endpoint of each service-desk connection (``POST /intake/<code>/events``, signed with
the connection's secret instead of a user's session or token) and the owner's dead-letter page.

Answers: 200 for an applied, duplicate or stale event (the body says which), 401 for a missing,
wrong or stale signature, 404 for an unknown connection, 413 for a body over the limit, 400/422 for
a malformed or unknown event (kept as a dead letter, whatever the request's rollback).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from perception.api.errors import problem_response
from perception.core.audit import record
from perception.core.authz import Permission, require
from perception.core.clock import current_clock
from perception.core.errors import UserError
from perception.core.extensions import csrf, orm
from perception.core.i18n import lang_code
from perception.core.jobs import enqueue
from perception.core.transaction import atomic, write_afterwards
from perception.kpi.forms import ApplyForm
from perception.kpi.intake_models import EventStatus, IntakeConnection, IntakeEvent
from perception.kpi.services.intake import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    IntakeAuthError,
    Outcome,
    keep_dead,
    receive,
    replay,
    verify,
)
from perception.kpi.views import bp

intake_bp = Blueprint("intake", __name__, url_prefix="/intake")
csrf.exempt(intake_bp)


def _problem(exc: UserError) -> Any:
    first = exc.problems[0]
    return problem_response(
        exc.status, first.en, first.zh, code=first.code, errors=[p.as_json() for p in exc.problems]
    )


def follow_up(outcome: Outcome) -> None:
    """What an applied event leaves to jobs: its weeks' KPIs. The survey invitation of a close is
    asked for by the ticket import itself (``perception.kpi.closes``), as for the API."""
    if outcome.status != EventStatus.APPLIED or outcome.ticket_id is None:
        return
    if outcome.region_id is not None and outcome.opened_at is not None:
        enqueue("compute_ticket_kpis", region_id=outcome.region_id, opened_at=outcome.opened_at.isoformat())


@intake_bp.post("/<code>/events")
def receive_event(code: str) -> Any:
    connection = orm().scalar(
        select(IntakeConnection).where(IntakeConnection.code == code, IntakeConnection.active.is_(True))
    )
    if connection is None:
        return problem_response(
            404, "No active service-desk connection with this code.", "没有该服务台连接。"
        )
    limit = int(current_app.config.get("INTAKE_MAX_BODY_BYTES") or 1_048_576)
    if (request.content_length or 0) > limit:
        return problem_response(413, f"The event is larger than {limit} bytes.", f"事件超过 {limit} 字节。")
    body = request.get_data()
    now = current_clock().now()
    try:
        verify(connection, request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER), body,
               now, int(current_app.config.get("INTAKE_TIMESTAMP_TOLERANCE_SECONDS") or 300))  # fmt: skip
    except IntakeAuthError as exc:
        reason = f"{connection.code}: {exc.problems[0].code}"
        write_afterwards(lambda session: record(session, "intake_auth_failed", summary=reason))
        return _problem(exc)
    with atomic():
        outcome = receive(orm(), connection, body, now)
    if outcome.status == EventStatus.DEAD:
        write_afterwards(lambda session: keep_dead(session, outcome) and None)
        status = 400 if outcome.problems and outcome.problems[0].code == "invalid_json" else 422
        return _problem(UserError(list(outcome.problems), status=status))
    follow_up(outcome)
    return jsonify(outcome.as_json()), 200


@bp.get("/intake/dead-letters")
@require(Permission.MANAGE_SETUP)
def dead_letters() -> Any:
    rows = (
        orm()
        .scalars(
            select(IntakeEvent)
            .where(IntakeEvent.status == EventStatus.DEAD)
            .order_by(IntakeEvent.id.desc())
            .limit(200)
        )
        .all()
    )
    clock = current_clock()
    received = {e.id: clock.local(e.received_at).strftime("%Y-%m-%d %H:%M") for e in rows}
    return render_template("kpi/intake_dead_letters.html", rows=rows, form=ApplyForm(), lang=lang_code(),
                           received=received)  # fmt: skip


@bp.post("/intake/dead-letters/<int:event_id>/replay")
@require(Permission.MANAGE_SETUP)
def dead_letter_replay(event_id: int) -> Any:
    event = orm().get(IntakeEvent, event_id)
    if event is None:
        abort(404)
    if not ApplyForm().validate_on_submit():
        flash(_("The event could not be replayed; start again."), "error")
        return redirect(url_for("kpi.dead_letters"))
    with atomic():
        outcome = replay(orm(), event, current_clock().now())
    if outcome.status == EventStatus.DEAD:
        flash(_("Still refused: %(why)s", why=outcome.problems[0].located(lang_code())), "error")
    else:
        follow_up(outcome)
        flash(_("Replayed: the ticket is up to date."), "success")
    return redirect(url_for("kpi.dead_letters"))
