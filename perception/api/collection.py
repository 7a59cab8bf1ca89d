"""Collection endpoints: weekly reports (teams with their own tools send entries as JSON), the
completeness board, consolidated entries, events, callbacks and sampling discrepancy rates.
They call the same services as the HTML pages."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import jsonify, request
from sqlalchemy import select

from perception.api import bp
from perception.api.errors import api_error, json_body, page_args
from perception.api.openapi import SCHEMAS, document
from perception.authz import Permission, get_or_404, require, scoped
from perception.collection import access
from perception.extensions import db
from perception.models.collection import CollectionReport, ReportEntry
from perception.models.collection_fieldwork import CallbackTask, SamplingRun
from perception.models.org import CollectionPoint
from perception.periods import iso_week_label, week_from_label, week_start
from perception.services import collection_callbacks, collection_reports, collection_sampling
from perception.services import collection_consolidation as merging
from perception.services.collection_analysis import events_between
from perception.services.collection_board import completeness, region_completeness
from perception.services.collection_vocab import CollectionError

SCHEMAS["ReportEntry"] = {
    "type": "object",
    "required": ["kind", "customer", "text"],
    "properties": {
        "kind": {"type": "string", "enum": ["dynamic", "feedback", "requirement"]},
        "customer": {"type": "string", "description": "customer code (or id) of the point's region"},
        "text": {"type": "string", "description": "description / feedback / requirement"},
        "service": {"type": "string", "description": "service code (or id)"},
        "category": {
            "type": "string",
            "enum": ["major_event", "system_change", "supplier_change", "personnel_change", "other"],
        },
        "date": {"type": "string", "format": "date"},
        "impact": {"type": "string"},
        "contact": {"type": "string"},
        "dimension": {
            "type": "string",
            "enum": [
                "response_speed",
                "fault_handling",
                "deliverable_quality",
                "staff_attitude",
                "service_conformity",
                "training_effect",
            ],
        },
        "rating": {"type": "integer", "minimum": 1, "maximum": 5},
        "means": {"type": "string", "enum": ["callback", "visit", "questionnaire", "complaint", "other"]},
        "area": {"type": "string"},
        "urgency": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
        "size": {"type": "string", "enum": ["small", "medium", "large"]},
    },
}
ID = {"schema": {"type": "integer"}, "in": "path", "required": True}
WEEKS = [
    {"name": "from", "in": "query", "schema": {"type": "string", "example": "2026-W40"}},
    {"name": "to", "in": "query", "schema": {"type": "string", "example": "2026-W47"}},
]


def _invalid(exc: CollectionError) -> Any:
    return api_error(422, "Some of the data is not valid.", exc.to_details())


def _weeks(default: int = 1) -> tuple[date, date] | None:
    """?from=&to= as ISO weeks; a missing end is ``default`` weeks after the start (or last week)."""
    try:
        first = week_from_label(request.args["from"]) if request.args.get("from") else None
        last = week_from_label(request.args["to"]) if request.args.get("to") else None
    except ValueError:
        return None
    if last is None:
        last = (
            first + timedelta(weeks=default - 1) if first else week_start(date.today()) - timedelta(weeks=1)
        )
    if first is None:
        first = last - timedelta(weeks=default - 1)
    return (first, last) if first <= last else None


def entry_json(e: ReportEntry) -> dict[str, Any]:
    return {"id": e.id, "duplicate_of": e.duplicate_of_id, **e.snapshot()}


def report_json(r: CollectionReport, entries: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r.id,
        "collection_point_id": r.collection_point_id,
        "region_id": r.region_id,
        "week": iso_week_label(r.week_start),
        "week_start": r.week_start.isoformat(),
        "status": r.status,
        "revision": r.revision,
        "first_submitted_at": r.first_submitted_at.isoformat() + "Z" if r.first_submitted_at else None,
        "submitted_at": r.submitted_at.isoformat() + "Z" if r.submitted_at else None,
        "organiser_comment": r.organiser_comment,
    }
    if entries:
        out["entries"] = [entry_json(e) for e in r.entries]
    return out


@bp.get("/collection/reports")
@document(
    "/collection/reports",
    "get",
    summary="Weekly reports the user may see",
    tag="collection",
    parameters=WEEKS,
)
@require(Permission.VIEW_COLLECTION)
def api_reports() -> Any:
    weeks = _weeks(12)
    if weeks is None:
        return api_error(400, "Give weeks as 2026-W47, from <= to.")
    page, size = page_args()
    stmt = access.visible(
        select(CollectionReport)
        .where(CollectionReport.week_start.between(*weeks))
        .order_by(CollectionReport.week_start.desc(), CollectionReport.id)
    )
    rows = db.session.scalars(stmt.limit(size).offset((page - 1) * size))
    return jsonify({"page": page, "items": [report_json(r) for r in rows]})


@bp.get("/collection/reports/<int:report_id>")
@document(
    "/collection/reports/{report_id}",
    "get",
    summary="One report with its entries",
    tag="collection",
    parameters=[{"name": "report_id", **ID}],
)
@require(Permission.VIEW_COLLECTION)
def api_report(report_id: int) -> Any:
    return jsonify(report_json(access.report_or_404(report_id), entries=True))


@bp.put("/collection/points/<int:point_id>/weeks/<week>/report")
@document(
    "/collection/points/{point_id}/weeks/{week}/report",
    "put",
    summary="Store a point's report for an ISO week (all entries or none; 422 names each bad row)",
    tag="collection",
    parameters=[
        {"name": "point_id", **ID},
        {"name": "week", "in": "path", "required": True, "schema": {"type": "string", "example": "2026-W47"}},
    ],
    request_schema={
        "type": "object",
        "required": ["entries"],
        "properties": {
            "entries": {"type": "array", "items": {"$ref": "#/components/schemas/ReportEntry"}},
            "submit": {"type": "boolean", "default": False},
            "append": {"type": "boolean", "default": False},
        },
    },
)
@require(Permission.SUBMIT_REPORT)
def api_put_report(point_id: int, week: str) -> Any:
    point = get_or_404(CollectionPoint, point_id)
    body, error = json_body()
    if error:
        return error
    if not isinstance(body, dict) or not isinstance(body.get("entries"), list):
        return api_error(422, "Send an object with an 'entries' array.", [{"field": "entries", "row": None}])
    if not all(isinstance(e, dict) for e in body["entries"]):
        return api_error(422, "Every entry must be an object.", [{"field": "entries", "row": None}])
    try:
        monday = week_from_label(week)
    except ValueError as exc:
        return api_error(422, str(exc), [{"field": "week", "row": None}])
    try:
        report = collection_reports.put_report(
            db.session,
            point,
            monday,
            body["entries"],
            access.user(),
            submit=bool(body.get("submit")),
            append=bool(body.get("append")),
            source="api",
        )
    except CollectionError as exc:
        db.session.rollback()
        return _invalid(exc)
    db.session.commit()
    return jsonify(report_json(report, entries=True))


def _transition(report_id: int, action: str) -> Any:
    report = access.report_or_404(report_id)
    try:
        if action == "submit":
            collection_reports.submit_report(db.session, report, access.user())
        elif action == "accept":
            collection_reports.accept_report(db.session, report, access.user())
        else:
            body, error = json_body()
            if error:
                return error
            comment = body.get("comment", "") if isinstance(body, dict) else ""
            collection_reports.return_report(db.session, report, access.user(), str(comment))
    except CollectionError as exc:
        db.session.rollback()
        return _invalid(exc)
    db.session.commit()
    return jsonify(report_json(report))


@bp.post("/collection/reports/<int:report_id>/submit")
@document(
    "/collection/reports/{report_id}/submit",
    "post",
    summary="Submit or resubmit a report",
    tag="collection",
    parameters=[{"name": "report_id", **ID}],
)
@require(Permission.SUBMIT_REPORT)
def api_submit(report_id: int) -> Any:
    return _transition(report_id, "submit")


@bp.post("/collection/reports/<int:report_id>/accept")
@document(
    "/collection/reports/{report_id}/accept",
    "post",
    summary="Accept a submitted report (organiser)",
    tag="collection",
    parameters=[{"name": "report_id", **ID}],
)
@require(Permission.ORGANISE_REPORTS)
def api_accept(report_id: int) -> Any:
    return _transition(report_id, "accept")


@bp.post("/collection/reports/<int:report_id>/return")
@document(
    "/collection/reports/{report_id}/return",
    "post",
    summary="Return a report with a comment",
    tag="collection",
    parameters=[{"name": "report_id", **ID}],
    request_schema={"type": "object", "required": ["comment"], "properties": {"comment": {"type": "string"}}},
)
@require(Permission.ORGANISE_REPORTS)
def api_return(report_id: int) -> Any:
    return _transition(report_id, "return")


@bp.get("/collection/completeness")
@document(
    "/collection/completeness",
    "get",
    summary="Completeness per point and week, and rates per region",
    tag="collection",
    parameters=WEEKS,
)
@require(Permission.VIEW_COLLECTION)
def api_completeness() -> Any:
    weeks = _weeks(8)
    if weeks is None:
        return api_error(400, "Give weeks as 2026-W47, from <= to.")
    cells = completeness(
        db.session, *weeks, region_ids=access.scope_regions(), point_ids=access.point_scope()
    )
    return jsonify(
        {
            "cells": [
                {
                    "collection_point_id": c.collection_point_id,
                    "region_id": c.region_id,
                    "week": iso_week_label(c.week_start),
                    "deadline": c.deadline.isoformat() + "Z",
                    "state": c.state.value,
                    "lateness_hours": c.lateness_hours,
                    "report_id": c.report_id,
                    "status": c.status,
                }
                for c in cells
            ],
            "regions": [vars(r) for r in region_completeness(cells)],
        }
    )


@bp.get("/collection/entries")
@document(
    "/collection/entries",
    "get",
    summary="Consolidated entries of counted reports (organiser)",
    tag="collection",
    parameters=WEEKS
    + [{"name": n, "in": "query", "schema": {"type": "string"}} for n in ("kind", "dimension", "q")],
)
@require(Permission.ORGANISE_REPORTS)
def api_entries() -> Any:
    weeks = _weeks(1)
    if weeks is None:
        return api_error(400, "Give weeks as 2026-W47, from <= to.")
    f = merging.EntryFilter(
        first_week=weeks[0],
        last_week=weeks[1],
        kind=request.args.get("kind") or None,
        dimension=request.args.get("dimension") or None,
        text=request.args.get("q") or None,
    )
    page, size = page_args()
    rows = db.session.execute(
        scoped(merging.entries_query(f), ReportEntry).limit(size).offset((page - 1) * size)
    )
    return jsonify(
        {
            "page": page,
            "items": [
                entry_json(e)
                | {"report_id": r.id, "week": iso_week_label(r.week_start), "region_id": r.region_id}
                for e, r in rows
            ],
        }
    )


@bp.get("/collection/events")
@document(
    "/collection/events",
    "get",
    summary="Customer dynamic events with start <= date < end",
    tag="collection",
    parameters=[
        {"name": n, "in": "query", "required": True, "schema": {"type": "string", "format": "date"}}
        for n in ("start", "end")
    ],
)
@require(Permission.VIEW_COLLECTION, Permission.VIEW_ANALYSIS)
def api_events() -> Any:
    try:
        start, end = date.fromisoformat(request.args["start"]), date.fromisoformat(request.args["end"])
    except (KeyError, ValueError):
        return api_error(400, "Give start and end as YYYY-MM-DD.")
    events = events_between(db.session, start, end, access.scope_regions())
    return jsonify({"items": [vars(e) | {"event_date": e.event_date.isoformat()} for e in events]})


@bp.post("/collection/callbacks/tasks/<int:task_id>/attempts")
@document(
    "/collection/callbacks/tasks/{task_id}/attempts",
    "post",
    summary="Record a callback attempt; 'completed' stores the script answers",
    tag="collection",
    parameters=[{"name": "task_id", **ID}],
    request_schema={
        "type": "object",
        "required": ["outcome"],
        "properties": {
            "outcome": {"type": "string", "enum": ["no_answer", "refused", "wrong_number", "completed"]},
            "answers": {"type": "object"},
            "note": {"type": "string"},
        },
    },
)
@require(Permission.RECORD_CALLBACK)
def api_callback_attempt(task_id: int) -> Any:
    task = get_or_404(CallbackTask, task_id)
    body, error = json_body()
    if error:
        return error
    if not isinstance(body, dict):
        return api_error(422, "Send an object.", [{"field": "outcome", "row": None}])
    answers = body.get("answers") if isinstance(body.get("answers"), dict) else None
    try:
        attempt = collection_callbacks.record_attempt(
            db.session,
            task,
            access.user(),
            str(body.get("outcome", "")),
            answers=answers,
            note=str(body.get("note") or "") or None,
        )
    except CollectionError as exc:
        db.session.rollback()
        return _invalid(exc)
    db.session.commit()
    return jsonify(
        {"id": attempt.id, "task_id": task.id, "status": task.status, "response_id": task.response_id}
    )


@bp.get("/collection/sampling/<int:run_id>/discrepancy")
@document(
    "/collection/sampling/{run_id}/discrepancy",
    "get",
    summary="Discrepancy rate per region of a sampling run (Wilson interval)",
    tag="collection",
    parameters=[{"name": "run_id", **ID}],
)
@require(Permission.MANAGE_SAMPLING, Permission.VIEW_ANALYSIS)
def api_discrepancy(run_id: int) -> Any:
    run = get_or_404(SamplingRun, run_id)
    rates = collection_sampling.discrepancy_rates(
        db.session, run.id, region_ids=access.scope_regions(), confidence=run.confidence
    )
    return jsonify(
        {
            "run_id": run.id,
            "seed": run.seed,
            "population": run.population,
            "sample_size": run.sample_size,
            "items": [vars(r) for r in rates],
        }
    )
