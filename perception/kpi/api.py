"""Tickets and KPIs JSON API: the same services as the HTML pages.

- ``POST /kpi/tickets`` a batch of tickets (``{"tickets": [...]}``, keys as the CSV columns);
  ``?dry_run=1`` only checks and counts; all-or-nothing; upsert by ticket id; the same batch twice
  is refused unless ``?allow_duplicate=1``. ``GET /kpi/tickets`` and ``/kpi/tickets/{id}``.
- ``POST /kpi/values`` a batch of KPI values (``{"values": [...]}``); ``GET /kpi/values`` with
  attainment (target, comparator, met) per service x region x tier x period.
- ``GET /kpi/definitions``, ``POST /kpi/definitions``; ``POST /kpi/compute``.
- ``GET /kpi/attainment`` per standard, ``/kpi/breaches``, ``/kpi/escalations``,
  ``/kpi/reports/{kind}`` (monthly | quarterly).
Every error is RFC 9457 problem+json (perception.api.errors): an import's problems answer 422 with
``errors``, one object per problem naming row, column (``field``), value and the reason in both
languages. Handlers raise; the request's one transaction commits a success and rolls back an error.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import g, jsonify, request
from sqlalchemy import select

from perception.api import bp
from perception.api.errors import json_body, json_object, page_args
from perception.api.openapi import document, json_content
from perception.api.schemas import ImportResult
from perception.core.authz import Permission, get_or_404, region_scope, require, scoped
from perception.core.clock import current_clock
from perception.core.errors import UserError
from perception.core.extensions import orm
from perception.core.periods import parse_day
from perception.kpi import api_models as schemas
from perception.kpi.models import Escalation, KpiDefinition, Ticket
from perception.kpi.services.definitions import DefinitionSpec, save_definition
from perception.kpi.services.jobs import recompute_recent
from perception.kpi.services.reports import MONTHLY, QUARTERLY, report_period, sla_failure_report
from perception.kpi.services.sla import attainment_by_standard, breaches
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from perception.kpi.services.tickets import TicketQuery, find_tickets, ticket_status
from perception.kpi.services.value_import import import_kpi_values
from perception.kpi.services.values import KpiQuery, count_values, kpi_values
from perception.setup.models.standards import ServiceStandard

TAG = "kpi"
ID = {"in": "path", "required": True, "schema": {"type": "integer"}}
DRY = {"name": "dry_run", "in": "query", "schema": {"type": "boolean"}}
DUP = {"name": "allow_duplicate", "in": "query", "schema": {"type": "boolean"}}
IMPORTED = {
    "200": {"description": "Dry run: what the import would do", "content": json_content(ImportResult)},
    "201": {"description": "Imported", "content": json_content(ImportResult)},
}
RANGE = [
    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
]


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "yes")


def _dates(default_days: int = 91) -> tuple[date, date]:
    """``from`` and ``to`` (default: the last ``default_days`` days up to the organisation's today);
    a date that does not parse is a 422 problem naming the parameter."""
    today = current_clock().today()
    start, end = today - timedelta(days=default_days), today
    if request.args.get("from"):
        start = parse_day(request.args["from"], "from")
    if request.args.get("to"):
        end = parse_day(request.args["to"], "to")
    return start, end


def _import(run: Any, key: str) -> Any:
    body = json_body()
    items = body.get(key) if isinstance(body, dict) else body
    options = ImportOptions(
        dry_run=_flag("dry_run"),
        allow_duplicate=_flag("allow_duplicate"),
        user_id=g.user.id,
        allowed_regions=region_scope(),
    )
    result = run(orm(), options, items=items)  # a KpiImportError answers 422 with every problem
    return jsonify(result.as_json()), 200 if options.dry_run else 201


@bp.post("/kpi/tickets")
@document(
    "/kpi/tickets",
    "post",
    summary="Import a batch of tickets (upsert by id; all-or-nothing; dry_run=1 only checks)",
    tag=TAG,
    parameters=[DRY, DUP],
    request=schemas.TicketsImport,
    responses=IMPORTED,
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
@document(
    "/kpi/tickets",
    "get",
    summary="Tickets the user may see, newest first (paged; the same filters as the tickets page)",
    tag=TAG,
    parameters=[
        *RANGE,
        *(
            {"name": n, "in": "query", "schema": {"type": "integer"}}
            for n in ("region_id", "service_id", "page", "per_page")
        ),
        {"name": "status", "in": "query", "schema": {"type": "string"}},
        {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "ticket id starts with"},
    ],
    response=schemas.KpiTickets,
)
@require(Permission.VIEW_KPI)
def get_tickets() -> Any:
    page, size = page_args()
    found = find_tickets(
        orm(),
        TicketQuery(
            region_ids=region_scope(),
            region_id=request.args.get("region_id", type=int),
            service_id=request.args.get("service_id", type=int),
            status=ticket_status(request.args.get("status")),
            id_prefix=request.args.get("q", ""),
            opened_from=parse_day(request.args["from"], "from") if request.args.get("from") else None,
            opened_to=parse_day(request.args["to"], "to") if request.args.get("to") else None,
            timezone=current_clock().timezone,
        ),
        limit=size,
        offset=(page - 1) * size,
    )
    return jsonify({"page": page, "total": found.total, "items": [ticket_json(t) for t in found.tickets]})


@bp.get("/kpi/tickets/<int:ticket_id>")
@document(
    "/kpi/tickets/{ticket_id}",
    "get",
    summary="One ticket (404 outside the user's scope)",
    tag=TAG,
    parameters=[{"name": "ticket_id", **ID}],
    response=schemas.KpiTicket,
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
    request=schemas.ValuesImport,
    responses=IMPORTED,
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
    response=schemas.KpiValues,
)
@require(Permission.VIEW_KPI)
def get_values() -> Any:
    start, end = _dates()
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


def _text(body: dict[str, Any], key: str) -> str:
    """A text member; null or missing is empty (never the text "None")."""
    value = body.get(key)
    return "" if value is None else str(value)


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
@document("/kpi/definitions", "get", summary="KPI definitions", tag=TAG, response=schemas.KpiDefinitions)
@require(Permission.VIEW_KPI)
def get_definitions() -> Any:
    rows = orm().scalars(select(KpiDefinition).order_by(KpiDefinition.code))
    return jsonify({"items": [definition_json(d) for d in rows]})


@bp.post("/kpi/definitions")
@document(
    "/kpi/definitions",
    "post",
    summary="Create a KPI definition for imported values",
    tag=TAG,
    request=schemas.DefinitionInput,
    response=schemas.KpiDefinitionsItem,
    status=201,
)
@require(Permission.MANAGE_KPI)
def post_definition() -> Any:
    body = json_object()
    spec = DefinitionSpec(
        code=_text(body, "code"),
        name_zh=_text(body, "name_zh"),
        name_en=_text(body, "name_en"),
        unit=_text(body, "unit") or "%",
        direction=_text(body, "direction") or "higher",
        metric=_text(body, "metric") or None,
        standard_id=_standard_id(body),
        default_target=_number(body, "default_target"),
    )
    saved = save_definition(orm(), spec)  # a KpiError answers 422 naming the field
    return jsonify(definition_json(saved)), 201


def _standard_id(body: dict[str, Any]) -> int | None:
    """The id of an existing service standard, or None; anything else is a 422 naming the field."""
    value = body.get("standard_id")
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not -(2**31) <= value < 2**31  # what an INTEGER column holds
        or orm().get(ServiceStandard, value) is None
    ):
        raise UserError.one(
            "standard_id",
            "没有此编号的服务标准。",
            "No service standard has this id.",
            code="unknown",
            value=str(value)[:80],
        )
    return value


def _number(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UserError.one(
            key, "应为数字。", "must be a number.", code="bad_number", value=str(value)[:80]
        ) from None


@bp.post("/kpi/compute")
@document(
    "/kpi/compute",
    "post",
    summary="Recompute the weekly ticket KPIs of the last N weeks",
    tag=TAG,
    parameters=[{"name": "weeks", "in": "query", "schema": {"type": "integer"}}],
    response=schemas.Recomputed,
)
@require(Permission.MANAGE_KPI)
def post_compute() -> Any:
    weeks = min(max(request.args.get("weeks", 26, type=int) or 26, 1), 104)
    summary = recompute_recent(orm(), weeks, clock=current_clock(), region_ids=region_scope())
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
    "/kpi/attainment",
    "get",
    summary="SLA attainment per time standard and month",
    tag=TAG,
    parameters=RANGE,
    response=schemas.KpiAttainment,
)
@require(Permission.VIEW_KPI)
def get_attainment() -> Any:
    start, end = _dates()
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
    response=schemas.KpiBreaches,
)
@require(Permission.VIEW_KPI)
def get_breaches() -> Any:
    start, end = _dates(31)
    rows = breaches(orm(), start, end, region_ids=region_scope(), limit=1000)
    return jsonify({"items": [{**b.__dict__, "opened_at": b.opened_at.isoformat()} for b in rows]})


@bp.get("/kpi/escalations")
@document(
    "/kpi/escalations",
    "get",
    summary="Open SLA escalations (all=1 includes recovered)",
    tag=TAG,
    response=schemas.KpiEscalations,
)
@require(Permission.VIEW_KPI)
def get_escalations() -> Any:
    stmt = scoped(select(Escalation), Escalation)
    if not _flag("all"):
        stmt = stmt.where(Escalation.recovered_at.is_(None))
    rows = orm().scalars(stmt.order_by(Escalation.fired_at.desc()).limit(1000))
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
    response=schemas.KpiReport,
)
@require(Permission.VIEW_KPI)
def get_report(kind: str) -> Any:
    if kind not in (MONTHLY, QUARTERLY):
        raise UserError.one(
            "kind",
            "没有这种报告：请用 monthly 或 quarterly。",
            "Unknown report; use monthly or quarterly.",
            code="not_found",
            value=kind[:80],
            status=404,
        )
    start, end = report_period(kind, request.args.get("period"), current_clock().today())
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
