"""Collection endpoints beyond the reports themselves: completeness, consolidated entries,
customer events for analysis, callback attempts and sampling discrepancy rates."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, jsonify, request

from perception.api import bp
from perception.api.errors import json_object, page_args
from perception.api.openapi import document
from perception.collection import access
from perception.collection import api_models as schemas
from perception.collection.api import ID, WEEKS, entry_json, week_range
from perception.collection.models.fieldwork import CallbackTask, SamplingRun
from perception.collection.models.reports import ReportEntry
from perception.collection.services import callbacks as collection_callbacks
from perception.collection.services import consolidation as merging
from perception.collection.services import sampling_results as collection_sampling_results
from perception.collection.services.analysis import events_between
from perception.collection.services.board import completeness, region_completeness
from perception.core.authz import Permission, get_or_404, require, scoped
from perception.core.clock import current_clock
from perception.core.errors import UserError
from perception.core.extensions import orm
from perception.core.periods import iso_week_label, parse_day
from perception.surveys.services.settings import SurveySettings


@bp.get("/collection/completeness")
@document(
    "/collection/completeness",
    "get",
    summary="Completeness per point and week, and rates per region",
    tag="collection",
    parameters=WEEKS,
    response=schemas.CollectionCompleteness,
)
@require(Permission.VIEW_COLLECTION)
def api_completeness() -> Any:
    weeks = week_range(8)
    cells = completeness(
        orm(),
        *weeks,
        now=current_clock().now(),
        region_ids=access.scope_regions(),
        point_ids=access.point_scope(),
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
    response=schemas.CollectionEntries,
)
@require(Permission.ORGANISE_REPORTS)
def api_entries() -> Any:
    weeks = week_range(1)
    f = merging.EntryFilter(
        first_week=weeks[0],
        last_week=weeks[1],
        kind=request.args.get("kind") or None,
        dimension=request.args.get("dimension") or None,
        text=request.args.get("q") or None,
    )
    page, size = page_args()
    rows = orm().execute(scoped(merging.entries_query(f), ReportEntry).limit(size).offset((page - 1) * size))
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


def _day_arg(name: str) -> date:
    """A required date of the query string; a missing or unreadable one is a 400 naming it."""
    value = (request.args.get(name) or "").strip()
    if not value:
        raise UserError.one(
            name, f"请以 YYYY-MM-DD 给出 {name}。", f"Give {name} as YYYY-MM-DD.", code="required", status=400
        )
    try:
        return parse_day(value, name)
    except UserError as exc:
        raise UserError(exc.problems, status=400) from None


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
    response=schemas.CollectionEvents,
)
@require(Permission.VIEW_COLLECTION, Permission.VIEW_ANALYSIS)
def api_events() -> Any:
    start, end = _day_arg("start"), _day_arg("end")
    events = events_between(orm(), start, end, access.scope_regions())
    return jsonify({"items": [vars(e) | {"event_date": e.event_date.isoformat()} for e in events]})


@bp.post("/collection/callbacks/tasks/<int:task_id>/attempts")
@document(
    "/collection/callbacks/tasks/{task_id}/attempts",
    "post",
    summary="Record a callback attempt; 'completed' stores the script answers",
    tag="collection",
    parameters=[{"name": "task_id", **ID}],
    request=schemas.CallbackAttemptInput,
    response=schemas.CallbackAttempt,
)
@require(Permission.RECORD_CALLBACK)
def api_callback_attempt(task_id: int) -> Any:
    task = get_or_404(CallbackTask, task_id)
    body = json_object()
    answers = body.get("answers") if isinstance(body.get("answers"), dict) else None
    clock = current_clock()
    attempt = collection_callbacks.record_attempt(
        orm(),
        task,
        access.user(),
        str(body.get("outcome", "")),
        answers=answers,
        note=str(body.get("note") or "") or None,
        now=clock.now(),
        org_timezone=clock.timezone,
        survey_settings=SurveySettings.from_config(current_app.config),
    )
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
    response=schemas.CollectionDiscrepancy,
)
@require(Permission.MANAGE_SAMPLING, Permission.VIEW_ANALYSIS)
def api_discrepancy(run_id: int) -> Any:
    run = get_or_404(SamplingRun, run_id)
    rates = collection_sampling_results.discrepancy_rates(
        orm(), run.id, region_ids=access.scope_regions(), confidence=run.confidence
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
