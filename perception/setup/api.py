"""Setup (phase 1) JSON API. It calls the same services as the HTML pages.

- The whole setup: ``GET /setup/export`` and ``POST /setup/import`` (a full or partial document in
  the format of perception.setup.services.config; all-or-nothing; ``?dry_run=1`` only checks).
  Strategy, organisation, tiers, services, subscriptions, SLAs, plan, roles and training are
  written this way.
- Standards: list in force on a date, one standard with its history, create/change (draft),
  the five-principle check, and the joint-confirmation steps.
- SLAs: list, one, the SLA covering a service for a customer; the plan's coverage view.
Every error is the API's one problem+json shape: validation problems answer 422 with ``errors``
naming each field's path; a step the user may not take answers 403 with the reason. "Today" (the
default ``?on=`` and the date a confirmation takes effect) is the organisation's.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, current_app, g, jsonify, request
from sqlalchemy import func, select

from perception.api import bp, paging
from perception.api.errors import json_body, optional_object, page_args
from perception.api.openapi import document
from perception.core.authz import Permission, can, get_or_404, region_scope, require, scoped
from perception.core.clock import current_clock
from perception.core.errors import UserError
from perception.core.extensions import orm
from perception.core.models.org import CustomerOrg
from perception.core.periods import parse_day
from perception.core.transaction import writes
from perception.setup import api_models as schemas
from perception.setup.models.catalog import Service, ServiceTier
from perception.setup.models.standards import ServiceStandard, Sla, StandardVersion
from perception.setup.services import confirm as setup_confirm
from perception.setup.services import schema as setup_schema
from perception.setup.services.agreements import sla_to_def_dict, slas_to_def_dicts
from perception.setup.services.config import import_document, load_text
from perception.setup.services.config_export import dump_text, export_with_audit
from perception.setup.services.customer_scope import redact_export, viewer_customers
from perception.setup.services.defs import CONTENT_FIELDS
from perception.setup.services.errors import NotAllowed, Problems, SetupError
from perception.setup.services.plan import coverage
from perception.setup.services.refs import Refs
from perception.setup.services.sla import sla_for
from perception.setup.services.standard_io import export_standard, save_standard
from perception.setup.services.standards import (
    check_version,
    measured_history,
    standard_in_force,
    standards_in_force,
)

TAG = "setup"
ID = {"in": "path", "required": True, "schema": {"type": "integer"}}
ON = {"name": "on", "in": "query", "schema": {"type": "string", "format": "date"}}
# The confirmation steps as the URL spells them (the services' names with "-" for "_").
STEPS = tuple(step.replace("_", "-") for step in setup_confirm.STEPS)


def _on() -> date:
    """?on=, a date in any form people write one (422 naming ``on`` otherwise); default today."""
    raw = request.args.get("on")
    return parse_day(raw, "on") if raw else current_clock().today()


def _unknown(field: str, kind_zh: str, kind_en: str, code: str) -> UserError:
    """A 404 naming the query parameter whose code matches nothing the user may see."""
    return SetupError.one(
        field,
        f"没有代码为“{code}”的{kind_zh}",
        f"No {kind_en} with code '{code}'.",
        code="not_found",
        status=404,
    )


def version_json(v: StandardVersion) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": v.id,
        "standard_id": v.standard_id,
        "code": v.standard.code,
        "version": v.version,
    }
    out["status"] = v.status
    out.update({f: getattr(v, f) for f in CONTENT_FIELDS})
    for f in ("effective_from", "effective_to"):
        value = getattr(v, f)
        out[f] = value.isoformat() if value else None
    return out


@bp.get("/setup/export")
@document(
    "/setup/export",
    "get",
    summary="The whole setup as one document (JSON, or YAML with ?format=yaml)",
    tag=TAG,
    parameters=[{"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "yaml"]}}],
    response=schemas.SetupExport,
)
@require(Permission.MANAGE_SETUP)
@writes  # records the export's audit row
def setup_export() -> Any:
    doc = export_with_audit(orm())
    if request.args.get("format") == "yaml":
        return Response(dump_text(doc, "yaml"), mimetype="application/x-yaml")
    return jsonify(doc)


@bp.post("/setup/import")
@document(
    "/setup/import",
    "post",
    summary="Import a full or partial setup document, all-or-nothing and idempotent (?dry_run=1 checks only)",
    tag=TAG,
    request=schemas.SetupImportInput,
    request_content={"application/x-yaml": {"schema": {"type": "string"}}},
    parameters=[{"name": "dry_run", "in": "query", "schema": {"type": "boolean"}}],
    response=schemas.SetupImported,
)
@require(Permission.MANAGE_SETUP)
def setup_import() -> Any:
    dry_run = request.args.get("dry_run", "").lower() in ("1", "true", "yes")
    if request.mimetype in ("application/x-yaml", "application/yaml", "text/yaml"):
        doc = load_text(request.get_data())
    else:
        doc = json_body()
    result = import_document(orm(), doc, g.user, dry_run=dry_run, default_timezone=current_clock().timezone)
    return jsonify({"entries": result.entries, "changes": result.changes, "dry_run": result.dry_run})


PAGING = paging.PARAMETERS


def _catalogue_page(model: Any, extra: Any) -> Response:
    """One page of a catalogue in id order (stable across pages), with each row's id and names."""
    page, size = page_args()
    total = orm().scalar(select(func.count()).select_from(model)) or 0
    rows = orm().scalars(select(model).order_by(model.id).limit(size).offset((page - 1) * size))
    items = [
        {"id": r.id, "code": r.code, "name_zh": r.name_zh, "name_en": r.name_en, **extra(r)} for r in rows
    ]
    return jsonify({"page": page, "per_page": size, "total": total, "items": items})


@bp.get("/setup/services")
@document(
    "/setup/services",
    "get",
    summary="The service catalogue with ids (the analysis filters take service ids), in id order, paged",
    tag=TAG,
    parameters=PAGING,
    response=schemas.SetupServices,
)
@require(Permission.USE_API)
def setup_services() -> Any:
    return _catalogue_page(Service, lambda s: {"kind": s.kind, "active": s.active})


@bp.get("/setup/tiers")
@document(
    "/setup/tiers",
    "get",
    summary="Service tiers with ids, in id order, paged",
    tag=TAG,
    parameters=PAGING,
    response=schemas.SetupTiers,
)
@require(Permission.USE_API)
def setup_tiers() -> Any:
    return _catalogue_page(ServiceTier, lambda t: {"rank": t.rank})


@bp.get("/setup/standards")
@document(
    "/setup/standards",
    "get",
    summary="Standard versions in force on a date (filters: service, tier, customer codes), in the "
    "standards' id order, paged",
    tag=TAG,
    parameters=[ON]
    + [{"name": n, "in": "query", "schema": {"type": "string"}} for n in ("service", "tier", "customer")]
    + PAGING,
    response=schemas.SetupStandards,
)
@require(Permission.VIEW_SETUP)
def setup_standards() -> Any:
    on = _on()
    p = Problems()
    refs = Refs(orm(), p)
    ids = {
        name: refs.id_of(model, request.args.get(name) or None, name)
        for name, model in (("service", Service), ("tier", ServiceTier), ("customer", CustomerOrg))
    }
    p.raise_if_any()
    visible = set(orm().scalars(scoped(select(ServiceStandard.id), ServiceStandard)))
    rows = standards_in_force(orm(), on, ids["service"], ids["tier"], ids["customer"])
    shown = [v for v in rows if v.standard_id in visible]
    return jsonify(
        {"on": on.isoformat()} | paging.page_of_list(shown, lambda v: (v.standard_id, v.id), version_json)
    )


@bp.get("/setup/standards/<int:standard_id>")
@document(
    "/setup/standards/{standard_id}",
    "get",
    summary="One standard with every version, its confirmation trail and the version in force on ?on=",
    tag=TAG,
    parameters=[{"name": "standard_id", **ID}, ON],
    response=schemas.SetupStandard,
)
@require(Permission.VIEW_SETUP)
def setup_standard(standard_id: int) -> Any:
    standard = get_or_404(ServiceStandard, standard_id)
    on = _on()
    force = standard_in_force(orm(), standard.id, on)
    body = export_standard(orm(), standard) | {"id": standard.id}
    body["in_force"] = None if force is None else {"on": on.isoformat(), "version": force.version}
    body["bound_customers"] = setup_confirm.bound_customers(orm(), standard)
    customers = viewer_customers(orm(), g.user)
    if customers is not None:  # never who confirmed for a customer outside the viewer's scope (issue 18)
        body = redact_export(orm(), body, customers)
    return jsonify(body)


@bp.post("/setup/standards")
@document(
    "/setup/standards",
    "post",
    summary="Create a standard or change one (by code): the content becomes a draft version",
    tag=TAG,
    request=schemas.StandardInput,
    response=schemas.SetupStandard,
    status=201,
)
@require(Permission.MANAGE_SETUP)
def setup_standard_save() -> Any:
    body = json_body()
    data = body if isinstance(body, dict) else {}
    entry = {
        k: data.get(k) for k in ("code", "service", "tier", "customer", "category", "experience_standard")
    }
    entry["active"] = data.get("active", True)
    entry["versions"] = [{k: data.get(k) for k in (*CONTENT_FIELDS, "requested_effective_from")}]
    p = Problems()
    d = setup_schema.read_standard(entry, "", p, with_state=False)
    p.raise_if_any()
    standard = save_standard(orm(), d, g.user)
    assert standard is not None  # save_standard raises its problems when it is not given a collector
    return jsonify(export_standard(orm(), standard) | {"id": standard.id}), 201


@bp.post("/setup/standards/<int:standard_id>/check")
@document(
    "/setup/standards/{standard_id}/check",
    "post",
    summary="Five-principle check of the latest version (optional body: history, oldest first)",
    tag=TAG,
    parameters=[{"name": "standard_id", **ID}],
    request=schemas.CheckInput,
    response=schemas.PrincipleReport,
)
@require(Permission.VIEW_SETUP)
def setup_standard_check(standard_id: int) -> Any:
    standard = get_or_404(ServiceStandard, standard_id)
    data = request.get_json(silent=True) if request.is_json else None
    history = data.get("history") if isinstance(data, dict) else None
    if history is not None and not (
        isinstance(history, list)
        and all(
            isinstance(x, int | float) and not isinstance(x, bool) and abs(x) <= schemas.HISTORY_BOUND
            for x in history
        )
    ):
        raise SetupError.one(
            "history",
            f"应为数字列表，每个数的绝对值不超过 {schemas.HISTORY_BOUND:g}。",
            f"A list of numbers, each at most {schemas.HISTORY_BOUND:g} in size.",
        )
    latest = standard.versions[-1]
    report = check_version(latest, history if history is not None else measured_history(orm(), latest))
    return jsonify(report.to_dict() | {"version": latest.version})


@bp.post("/setup/standards/<int:standard_id>/<step>")
@document(
    "/setup/standards/{standard_id}/{step}",
    "post",
    summary="Joint-confirmation step on the latest version (propose, confirm, reject, confirm-need, comment)",
    tag=TAG,
    parameters=[
        {"name": "standard_id", **ID},
        {"name": "step", "in": "path", "required": True, "schema": {"type": "string", "enum": list(STEPS)}},
    ],
    request=schemas.StepInput,
    response=schemas.SetupStandardsItem,
)
@require(Permission.MANAGE_SETUP, Permission.CONFIRM_STANDARD_PROVIDER, Permission.CONFIRM_STANDARD_CUSTOMER)
def setup_standard_step(standard_id: int, step: str) -> Any:
    standard = get_or_404(ServiceStandard, standard_id)
    if step not in STEPS:
        raise SetupError.one(
            "step",
            f"未知的步骤；可选：{'、'.join(STEPS)}",
            f"Unknown step; use one of {', '.join(STEPS)}.",
            code="not_found",
            status=404,
        )
    if step == "propose" and not can(Permission.MANAGE_SETUP):
        raise NotAllowed.one(
            "step",
            "只有体系负责人可以提交标准以供确认。",
            "Only the system owner proposes standards for confirmation.",
            code="forbidden",
        )
    body = optional_object()
    comment = str(body.get("comment") or "").strip()
    accept = body.get("accept_without_history", False)
    if not isinstance(accept, bool):
        raise SetupError.one(
            "accept_without_history",
            "accept_without_history 应为 true 或 false。",
            "accept_without_history must be true or false.",
        )
    version = standard.versions[-1]
    setup_confirm.take_step(
        orm(),
        step.replace("-", "_"),
        version,
        g.user,
        comment,
        today=current_clock().today(),
        base_url=str(current_app.config["PUBLIC_BASE_URL"]),
        accept_without_history=accept,
    )
    return jsonify(version_json(version))


@bp.get("/setup/slas")
@document("/setup/slas", "get", summary="SLAs and OLAs the user may see", tag=TAG, response=schemas.SetupSlas)
@require(Permission.VIEW_SETUP)
def setup_slas() -> Any:
    rows = list(orm().scalars(scoped(select(Sla).order_by(Sla.code), Sla)))
    return jsonify(
        {"items": [d | {"id": s.id} for s, d in zip(rows, slas_to_def_dicts(orm(), rows), strict=True)]}
    )


@bp.get("/setup/slas/<int:sla_id>")
@document(
    "/setup/slas/{sla_id}",
    "get",
    summary="One SLA/OLA",
    tag=TAG,
    parameters=[{"name": "sla_id", **ID}],
    response=schemas.SetupSla,
)
@require(Permission.VIEW_SETUP)
def setup_sla(sla_id: int) -> Any:
    sla = get_or_404(Sla, sla_id)
    return jsonify(sla_to_def_dict(orm(), sla) | {"id": sla.id})


@bp.get("/setup/sla-for")
@document(
    "/setup/sla-for",
    "get",
    summary="The SLA covering a service (code) for a customer (code) on a date; most specific first",
    tag=TAG,
    parameters=[ON]
    + [{"name": n, "in": "query", "schema": {"type": "string"}} for n in ("service", "customer")],
    response=schemas.SlaFor,
)
@require(Permission.VIEW_SETUP)
def setup_sla_for() -> Any:
    on = _on()
    service_code, customer_code = request.args.get("service", ""), request.args.get("customer", "")
    service = orm().scalar(select(Service).where(Service.code == service_code))
    customer = orm().scalar(scoped(select(CustomerOrg).where(CustomerOrg.code == customer_code), CustomerOrg))
    if service is None:
        raise _unknown("service", "服务", "service", service_code)
    if customer is None:  # unknown, or another customer's (a representative sees their own only)
        raise _unknown("customer", "客户组织", "customer organisation", customer_code)
    sla = sla_for(orm(), service.id, customer.id, on)
    return jsonify({"sla": None if sla is None else sla_to_def_dict(orm(), sla) | {"id": sla.id}})


@bp.get("/setup/coverage")
@document(
    "/setup/coverage",
    "get",
    summary="Plan coverage: gaps and standards no data source measures",
    tag=TAG,
    response=schemas.SetupCoverage,
)
@require(Permission.VIEW_SETUP)
def setup_coverage() -> Any:
    if g.user.customer_id is not None:
        raise NotAllowed.one(
            None,
            "覆盖视图仅供服务方人员使用。",
            "The coverage view is for the provider's staff.",
            code="forbidden",
        )
    cov = coverage(orm(), current_clock().today(), region_scope())
    codes = {s.id: s.code for s in cov.services}
    regions = {r.id: r.code for r in cov.regions}
    return jsonify(
        {
            "cells": [
                {"service": codes[s], "region": regions[r], "status": state}
                for (s, r), state in sorted(cov.cells.items())
                if s in codes
            ],
            "services_without_plan": [s.code for s in cov.services_without_plan],
            "unmeasured_standards": [
                {"code": u.version.standard.code, "reason_zh": u.reason_zh, "reason_en": u.reason_en}
                for u in cov.unmeasured
            ],
        }
    )
