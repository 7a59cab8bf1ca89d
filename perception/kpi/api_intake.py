"""The dead letters of the service-desk intake through the API (system owner): list what was refused
and why, and replay one after its cause is fixed."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify
from sqlalchemy import select

from perception.api import bp
from perception.api.errors import page_args
from perception.api.openapi import document
from perception.api.paging import PARAMETERS
from perception.core.authz import Permission, require
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.kpi import api_models as schemas
from perception.kpi.intake_models import EventStatus, IntakeEvent
from perception.kpi.services.intake import replay
from perception.kpi.views.intake import follow_up


def _json(e: IntakeEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "connection": e.connection.code,
        "received_at": e.received_at.isoformat() + "Z",
        "ticket_ref": e.ticket_ref,
        "error_code": e.error_code,
        "error": e.error,
        "body": e.body,
    }


@bp.get("/intake/dead-letters")
@document(
    "/intake/dead-letters",
    "get",
    summary="Service-desk events that were refused, newest first (system owner)",
    tag="kpi",
    parameters=PARAMETERS,
    response=schemas.KpiIntakeDeadLetters,
)
@require(Permission.MANAGE_SETUP)
def intake_dead_letters() -> Any:
    page, size = page_args()
    rows = orm().scalars(
        select(IntakeEvent).where(IntakeEvent.status == EventStatus.DEAD).order_by(IntakeEvent.id.desc())
        .offset((page - 1) * size).limit(size)
    ).all()  # fmt: skip
    return jsonify({"items": [_json(e) for e in rows]})


@bp.post("/intake/dead-letters/<int:event_id>/replay")
@document(
    "/intake/dead-letters/{event_id}/replay",
    "post",
    summary="Process a refused service-desk event again (after its cause is fixed)",
    tag="kpi",
    parameters=[{"name": "event_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
    response=schemas.Replayed,
)
@require(Permission.MANAGE_SETUP)
def intake_dead_letter_replay(event_id: int) -> Any:
    event = orm().get(IntakeEvent, event_id)
    if event is None:
        abort(404)
    outcome = replay(orm(), event, current_clock().now())
    if outcome.status != EventStatus.DEAD:
        follow_up(outcome)
    return jsonify(outcome.as_json()), 200
