"""Tickets and KPIs JSON API: the same services as the HTML pages.

- ``POST /kpi/tickets`` a batch of tickets (``{"tickets": [...]}``, keys as the CSV columns);
  ``?dry_run=1`` only checks and counts; all-or-nothing; upsert by ticket id; the same batch twice
  is refused unless ``?allow_duplicate=1``. ``GET /kpi/tickets`` and ``/kpi/tickets/{id}``.
- ``POST /kpi/values`` a batch of KPI values (``{"values": [...]}``); ``GET /kpi/values`` with
  attainment (target, comparator, met) per service x region x tier x period.
- ``GET /kpi/definitions``, ``POST /kpi/definitions``; ``POST /kpi/compute``.
- ``GET /kpi/attainment`` per standard, ``/kpi/breaches``, ``/kpi/escalations``,
  ``/kpi/reports/{kind}`` (monthly | quarterly).
Validation problems answer 422 with ``details``: one object per problem naming row, column,
value and the reason in both languages.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import g, jsonify, request
from sqlalchemy import func, select

from perception.api import bp
from perception.api.errors import api_error, json_body, page_args
from perception.api.openapi import document
from perception.core.authz import Permission, get_or_404, region_scope, require, scoped
from perception.core.extensions import db, orm
from perception.core.models.base import utcnow
from perception.kpi.models import Escalation, KpiDefinition, Ticket, TicketStatus
from perception.kpi.services.definitions import DefinitionSpec, save_definition
from perception.kpi.services.jobs import recompute_recent
from perception.kpi.services.messages import KpiError, KpiImportError
from perception.kpi.services.reports import MONTHLY, QUARTERLY, report_period, sla_failure_report
from perception.kpi.services.sla import attainment_by_standard, breaches
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from perception.kpi.services.value_import import import_kpi_values
from perception.kpi.services.values import KpiQuery, count_values, kpi_values

TAG = "kpi"
ID = {"in": "path", "required": True, "schema": {"type": "integer"}}
DRY = {"name": "dry_run", "in": "query", "schema": {"type": "boolean"}}
DUP = {"name": "allow_duplicate", "in": "query", "schema": {"type": "boolean"}}
RANGE = [
    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
]


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "yes")


def _dates(default_days: int = 91) -> tuple[date, date]:
    today = utcnow().date()
    start = date.fromordinal(today.toordinal() - default_days)
    try:
        return (
            date.fromisoformat(request.args["from"]) if request.args.get("from") else start,
            date.fromisoformat(request.args["to"]) if request.args.get("to") else today,
        )
    except ValueError:
        raise KpiError("from", "日期格式为 2026-03-02", "use dates like 2026-03-02") from None


def _error(exc: KpiError) -> Any:
    return api_error(422, exc.en, [{"field": exc.field, "reason": exc.en, "reason_zh": exc.zh}])


def _import(run: Any, key: str) -> Any:
    body, error = json_body()
    if error is not None:
        return error
    items = body.get(key) if isinstance(body, dict) else body
    options = ImportOptions(
        dry_run=_flag("dry_run"),
        allow_duplicate=_flag("allow_duplicate"),
        user_id=g.user.id,
        allowed_regions=region_scope(),
    )
    try:
        result = run(orm(), options, items=items)
    except KpiImportError as exc:
        db.session.rollback()
        return api_error(422, "Nothing was imported: some rows are not valid.", exc.as_json())
    db.session.commit()
    return jsonify(result.as_json()), 200 if options.dry_run else 201


@bp.post("/kpi/tickets")
@document(
    "/kpi/tickets",
    "post",
    summary="Import a batch of tickets (upsert by id; all-or-nothing; dry_run=1 only checks)",
    tag=TAG,
    parameters=[DRY, DUP],
    request_schema={
        "type": "object",
        "properties": {"tickets": {"type": "array", "items": {"type": "object"}}},
    },
)
@require(Permission.MANAGE_KPI)
def post_tickets() -> Any:
    return _import(import_tickets, "tickets")


def ticket_json(t: Ticket) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": t.id,
        "external_id": t.external_id,
        "kind": t.kind,
        "service_id": t.service_id,
        "region_id": t.region_id,
        "customer_id": t.customer_id,
        "tier_id": t.tier_id,
        "priority": t.priority,
        "contact": t.contact,
        "opened_at": iso(t.opened_at),
        "first_response_at": iso(t.first_response_at),
        "resolved_at": iso(t.resolved_at),
        "closed_at": iso(t.closed_at),
        "engineer": t.engineer,
        "status": t.status,
        "reopen_count": t.reopen_count,
        "transfers": t.transfers,
    }


@bp.get("/kpi/tickets")
@document("/kpi/tickets", "get", summary="Tickets the user may see, newest first (paged)", tag=TAG)
@require(Permission.VIEW_KPI)
def get_tickets() -> Any:
    page, size = page_args()
    stmt = scoped(select(Ticket), Ticket)
    if request.args.get("status") in TicketStatus.ALL:
        stmt = stmt.where(Ticket.status == request.args["status"])
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(Ticket.opened_at.desc()).limit(size).offset((page - 1) * size))
    return jsonify({"page": page, "total": total, "items": [ticket_json(t) for t in rows]})


@bp.get("/kpi/tickets/<int:ticket_id>")
@document(
    "/kpi/tickets/{ticket_id}",
    "get",
    summary="One ticket (404 outside the user's scope)",
    tag=TAG,
    parameters=[{"name": "ticket_id", **ID}],
)
@require(Permission.VIEW_KPI)
def get_ticket(ticket_id: int) -> Any:
    return jsonify(ticket_json(get_or_404(Ticket, ticket_id)))


@bp.post("/kpi/values")
@document(
    "/kpi/values",
    "post",
    summary="Import a batch of KPI values (upsert per KPI x service x region x tier x period)",
    tag=TAG,
    parameters=[DRY, DUP],
    request_schema={
        "type": "object",
        "properties": {"values": {"type": "array", "items": {"type": "object"}}},
    },
)
@require(Permission.MANAGE_KPI)
def post_values() -> Any:
    return _import(import_kpi_values, "values")


@bp.get("/kpi/values")
@document(
    "/kpi/values",
    "get",
    summary="KPI values with target and attainment per service x region x tier x period",
    tag=TAG,
    parameters=[
        *RANGE,
        *(
            {"name": n, "in": "query", "schema": {"type": "string"}}
            for n in ("kpi", "granularity", "service_id", "region_id", "tier_id")
        ),
    ],
)
@require(Permission.VIEW_KPI)
def get_values() -> Any:
    try:
        start, end = _dates()
    except KpiError as exc:
        return _error(exc)
    page, size = page_args()
    query = KpiQuery(
        start=start,
        end=end,
        granularity=request.args.get("granularity", "week"),
        region_ids=region_scope(),
        region_id=request.args.get("region_id", type=int),
        service_id=request.args.get("service_id", type=int),
        tier_id=request.args.get("tier_id", type=int),
        kpi_codes=tuple(c for c in request.args.get("kpi", "").split(",") if c),
    )
    rows = kpi_values(orm(), query, limit=size, offset=(page - 1) * size)
    items = [
        {**r.__dict__, "period_start": r.period_start.isoformat(), "period_end": r.period_end.isoformat()}
        for r in rows
    ]
    return jsonify({"page": page, "total": count_values(orm(), query), "items": items})


def definition_json(d: KpiDefinition) -> dict[str, Any]:
    return {
        "id": d.id,
        "code": d.code,
        "name_zh": d.name_zh,
        "name_en": d.name_en,
        "unit": d.unit,
        "direction": d.direction,
        "metric": d.metric,
        "standard_id": d.standard_id,
        "default_target": d.default_target,
        "source": d.source,
    }


@bp.get("/kpi/definitions")
@document("/kpi/definitions", "get", summary="KPI definitions", tag=TAG)
@require(Permission.VIEW_KPI)
def get_definitions() -> Any:
    rows = db.session.scalars(select(KpiDefinition).order_by(KpiDefinition.code))
    return jsonify({"items": [definition_json(d) for d in rows]})


@bp.post("/kpi/definitions")
@document(
    "/kpi/definitions",
    "post",
    summary="Create a KPI definition for imported values",
    tag=TAG,
    request_schema={"type": "object", "required": ["code", "name_zh", "name_en"]},
)
@require(Permission.MANAGE_KPI)
def post_definition() -> Any:
    body, error = json_body()
    if error is not None:
        return error
    if not isinstance(body, dict):
        return api_error(422, "Send an object.", [{"field": "", "reason": "expected an object"}])
    try:
        target = body.get("default_target")
        spec = DefinitionSpec(
            code=str(body.get("code", "")),
            name_zh=str(body.get("name_zh", "")),
            name_en=str(body.get("name_en", "")),
            unit=str(body.get("unit", "%")),
            direction=str(body.get("direction", "higher")),
            metric=body.get("metric") or None,
            standard_id=body.get("standard_id"),
            default_target=float(target) if target is not None else None,
        )
        saved = save_definition(orm(), spec)
    except (TypeError, ValueError) as exc:
        db.session.rollback()
        if isinstance(exc, KpiError):
            return _error(exc)
        return api_error(
            422, "default_target must be a number.", [{"field": "default_target", "reason": str(exc)}]
        )
    db.session.commit()
    return jsonify(definition_json(saved)), 201


@bp.post("/kpi/compute")
@document(
    "/kpi/compute",
    "post",
    summary="Recompute the weekly ticket KPIs of the last N weeks",
    tag=TAG,
    parameters=[{"name": "weeks", "in": "query", "schema": {"type": "integer"}}],
)
@require(Permission.MANAGE_KPI)
def post_compute() -> Any:
    weeks = min(max(request.args.get("weeks", 26, type=int) or 26, 1), 104)
    summary = recompute_recent(orm(), weeks, region_ids=region_scope())
    db.session.commit()
    return jsonify(
        {
            "tickets": summary.tickets,
            "groups": summary.groups,
            "values": summary.values,
            "seconds": round(summary.seconds, 3),
        }
    )


@bp.get("/kpi/attainment")
@document(
    "/kpi/attainment", "get", summary="SLA attainment per time standard and month", tag=TAG, parameters=RANGE
)
@require(Permission.VIEW_KPI)
def get_attainment() -> Any:
    try:
        start, end = _dates()
    except KpiError as exc:
        return _error(exc)
    rows = attainment_by_standard(orm(), start, end, region_ids=region_scope())
    return jsonify(
        {
            "items": [
                {
                    "standard_code": a.standard_code,
                    "service_id": a.service_id,
                    "kind": a.kind,
                    "measured": list(a.measured),
                    "hits": list(a.hits),
                    **a.result.to_dict(),
                }
                for a in rows
            ]
        }
    )


@bp.get("/kpi/breaches")
@document(
    "/kpi/breaches",
    "get",
    summary="Tickets that breached their time standard, worst first",
    tag=TAG,
    parameters=RANGE,
)
@require(Permission.VIEW_KPI)
def get_breaches() -> Any:
    try:
        start, end = _dates(31)
    except KpiError as exc:
        return _error(exc)
    rows = breaches(orm(), start, end, region_ids=region_scope(), limit=1000)
    return jsonify({"items": [{**b.__dict__, "opened_at": b.opened_at.isoformat()} for b in rows]})


@bp.get("/kpi/escalations")
@document("/kpi/escalations", "get", summary="Open SLA escalations (all=1 includes recovered)", tag=TAG)
@require(Permission.VIEW_KPI)
def get_escalations() -> Any:
    stmt = scoped(select(Escalation), Escalation)
    if not _flag("all"):
        stmt = stmt.where(Escalation.recovered_at.is_(None))
    rows = db.session.scalars(stmt.order_by(Escalation.fired_at.desc()).limit(1000))
    return jsonify(
        {
            "items": [
                {
                    "id": e.id,
                    "ticket_id": e.ticket_id,
                    "rule_id": e.rule_id,
                    "sla_id": e.sla_id,
                    "breach": e.breach,
                    "region_id": e.region_id,
                    "breached_at": e.breached_at.isoformat(),
                    "due_at": e.due_at.isoformat(),
                    "fired_at": e.fired_at.isoformat(),
                    "recipients": [r for r in e.recipients.split(",") if r],
                    "recovered_at": e.recovered_at.isoformat() if e.recovered_at else None,
                }
                for e in rows
            ]
        }
    )


@bp.get("/kpi/reports/<kind>")
@document(
    "/kpi/reports/{kind}",
    "get",
    summary="SLA-failure report (monthly | quarterly) as JSON",
    tag=TAG,
    parameters=[
        {"name": "kind", **ID, "schema": {"type": "string", "enum": [MONTHLY, QUARTERLY]}},
        {"name": "period", "in": "query", "schema": {"type": "string"}},
    ],
)
@require(Permission.VIEW_KPI)
def get_report(kind: str) -> Any:
    if kind not in (MONTHLY, QUARTERLY):
        return api_error(404, "Unknown report; use monthly or quarterly.")
    try:
        start, end = report_period(kind, request.args.get("period"), utcnow().date())
    except KpiError as exc:
        return _error(exc)
    report = sla_failure_report(orm(), kind, start, end, region_ids=region_scope())
    return jsonify(
        {
            "kind": kind,
            "label": report.label,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "total": report.total.__dict__,
            "lines": [line.__dict__ for line in report.lines],
            "breach_count": report.breach_count,
            "escalations": report.escalations,
            "breaches": [{**b.__dict__, "opened_at": b.opened_at.isoformat()} for b in report.breaches],
        }
    )
