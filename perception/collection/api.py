"""Collection endpoints: weekly reports (teams with their own tools send entries as JSON), the
completeness board, consolidated entries, events, callbacks and sampling discrepancy rates.
They call the same services as the HTML pages."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import jsonify, request
from sqlalchemy import select

from perception.api import bp
from perception.api.errors import json_body, json_object, page_args
from perception.api.openapi import document
from perception.collection import access
from perception.collection import api_models as schemas
from perception.collection.models.reports import CollectionReport, ReportEntry
from perception.collection.services import reports as collection_reports
from perception.core.authz import Permission, get_or_404, require
from perception.core.clock import current_clock
from perception.core.errors import UserError
from perception.core.extensions import orm
from perception.core.models.org import CollectionPoint
from perception.core.periods import iso_week_label, week_from_label

ID = {"schema": {"type": "integer"}, "in": "path", "required": True}
WEEKS = [
    {"name": "from", "in": "query", "schema": {"type": "string", "example": "2026-W40"}},
    {"name": "to", "in": "query", "schema": {"type": "string", "example": "2026-W47"}},
]


def _week(text: str, field: str, status: int) -> date:
    try:
        return week_from_label(text)
    except ValueError:
        raise UserError.one(
            field,
            f"“{text}”不是 ISO 周，请写成 2026-W47。",
            f"{text!r} is not an ISO week; write it as 2026-W47.",
            code="invalid_week",
            value=text[:80],
            status=status,
        ) from None


def week_range(default: int = 1) -> tuple[date, date]:
    """?from=&to= as ISO weeks; a missing end is ``default`` weeks after the start (or last week).
    A week that does not parse, or from after to, is a 400 naming the parameter."""
    first = _week(request.args["from"], "from", 400) if request.args.get("from") else None
    last = _week(request.args["to"], "to", 400) if request.args.get("to") else None
    if last is None:
        last = (
            first + timedelta(weeks=default - 1)
            if first
            else current_clock().week_start() - timedelta(weeks=1)
        )
    if first is None:
        first = last - timedelta(weeks=default - 1)
    if first > last:
        raise UserError.one(
            "from",
            "起始周不能晚于结束周。",
            "The week 'from' must not come after the week 'to'.",
            code="invalid_range",
            status=400,
        )
    return first, last


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
    response=schemas.CollectionReports,
)
@require(Permission.VIEW_COLLECTION)
def api_reports() -> Any:
    weeks = week_range(12)
    page, size = page_args()
    stmt = access.visible(
        select(CollectionReport)
        .where(CollectionReport.week_start.between(*weeks))
        .order_by(CollectionReport.week_start.desc(), CollectionReport.id)
    )
    rows = orm().scalars(stmt.limit(size).offset((page - 1) * size))
    return jsonify({"page": page, "items": [report_json(r) for r in rows]})


@bp.get("/collection/reports/<int:report_id>")
@document(
    "/collection/reports/{report_id}",
    "get",
    summary="One report with its entries",
    tag="collection",
    parameters=[{"name": "report_id", **ID}],
    response=schemas.CollectionReport,
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
    request=schemas.ReportInput,
    response=schemas.CollectionReport,
)
@require(Permission.SUBMIT_REPORT)
def api_put_report(point_id: int, week: str) -> Any:
    point = get_or_404(CollectionPoint, point_id)
    body = json_object()
    if not isinstance(body.get("entries"), list):
        raise UserError.one(
            "entries",
            "请发送含“entries”数组的对象。",
            "Send an object with an 'entries' array.",
            code="required",
        )
    if not all(isinstance(e, dict) for e in body["entries"]):
        raise UserError.one("entries", "每个条目都应为对象。", "Every entry must be an object.")
    monday = _week(week, "week", 422)
    report = collection_reports.put_report(
        orm(),
        point,
        monday,
        body["entries"],
        access.user(),
        submit=bool(body.get("submit")),
        append=bool(body.get("append")),
        source="api",
        now=current_clock().now(),
    )
    return jsonify(report_json(report, entries=True))


def _transition(report_id: int, action: str) -> Any:
    """One step of a report; the operation's CollectionError answers 422 with its problems."""
    report = access.report_or_404(report_id)
    now = current_clock().now()
    if action == "submit":
        collection_reports.submit_report(orm(), report, access.user(), now=now)
    elif action == "accept":
        collection_reports.accept_report(orm(), report, access.user(), now=now)
    else:
        body = json_body()
        comment = body.get("comment", "") if isinstance(body, dict) else ""
        collection_reports.return_report(orm(), report, access.user(), str(comment), now=now)
    return jsonify(report_json(report))


@bp.post("/collection/reports/<int:report_id>/submit")
@document(
    "/collection/reports/{report_id}/submit",
    "post",
    summary="Submit or resubmit a report",
    tag="collection",
    parameters=[{"name": "report_id", **ID}],
    response=schemas.CollectionReport,
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
    response=schemas.CollectionReport,
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
    request=schemas.ReturnInput,
    response=schemas.CollectionReport,
)
@require(Permission.ORGANISE_REPORTS)
def api_return(report_id: int) -> Any:
    return _transition(report_id, "return")


# The organiser's and the analysts' read endpoints, callbacks and sampling live next door.
from perception.collection import api_board as collection_board  # noqa: E402,F401
