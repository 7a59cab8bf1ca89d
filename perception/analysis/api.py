"""Analysis endpoints: the same services as the HTML pages, as JSON, inside the token user's scope.

Filters are the query arguments of the pages (from, to, region, service, tier, customer, grain);
a malformed one answers 422 naming the field, a region or customer out of scope 404. Every error
is RFC 9457 problem+json (perception.api.errors): handlers raise, or let the operation's
TextAnalysisError propagate, and the request's one transaction commits a success and rolls back
an error.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import abort, g, jsonify, request, url_for

from perception.analysis import api_models as schemas
from perception.analysis.jobs import rerun_text_analysis, rollup_for_pages
from perception.analysis.models import Opportunity
from perception.analysis.services import text_settings
from perception.analysis.services.alerts import alerts_for
from perception.analysis.services.demand import demand
from perception.analysis.services.evidence import evidence
from perception.analysis.services.experience import experience
from perception.analysis.services.filters import AnalysisFilters, OutOfScope, filters_for_user
from perception.analysis.services.kpi_experience import kpi_vs_experience
from perception.analysis.services.kpis import kpi_analysis
from perception.analysis.services.opportunities import (
    OpportunityUpdate,
    create_from_need,
    opportunities,
    update_opportunity,
)
from perception.analysis.services.overview import overview
from perception.analysis.services.text_labels import classifier_status, label_entry
from perception.api import bp
from perception.api.errors import json_object
from perception.api.openapi import document
from perception.core.authz import Permission, get_or_404, region_scope, require
from perception.core.clock import current_clock
from perception.core.errors import UserError
from perception.core.extensions import orm
from perception.core.models.facts import TextEntry
from scoring.results import to_jsonable

TAG = "analysis"
FILTER_PARAMS = [
    {"name": name, "in": "query", "required": False, "schema": {"type": kind}, "description": text}
    for name, kind, text in (
        ("from", "string", "First ISO week (2026-W10) or date"),
        ("to", "string", "Last ISO week or date (included)"),
        ("region", "integer", "Region id (inside your scope)"),
        ("service", "integer", "Service id"),
        ("tier", "integer", "Service tier id"),
        ("customer", "integer", "Customer id (inside your scope)"),
        ("grain", "string", "week or month"),
    )
]


def _with_filters(build: Callable[[AnalysisFilters], Any]) -> Any:
    """``build(filters)`` as JSON; a malformed filter raises FilterError (422 naming the field)."""
    try:
        filters = filters_for_user(orm(), request.args, today=current_clock().today())
    except OutOfScope:
        abort(404)
    return jsonify(build(filters))


@bp.get("/analysis/overview")
@document(
    "/analysis/overview",
    "get",
    summary="Perception index, CSAT and NPS by region, service and period",
    tag=TAG,
    parameters=FILTER_PARAMS,
    response=schemas.AnalysisOverview,
)
@require(Permission.VIEW_ANALYSIS)
def api_overview() -> Any:
    today = current_clock().today()
    return _with_filters(
        lambda f: overview(orm(), f, use_rollup=rollup_for_pages(orm()), today=today).to_dict()
    )


@bp.get("/analysis/kpi-vs-experience")
@document(
    "/analysis/kpi-vs-experience",
    "get",
    summary="Four-quadrant KPI-versus-experience cells, ranked watermelons (per KPI, and "
    "watermelon_cells: one per service x region with its KPIs, the headline's definition), "
    "correlations and lead/lag",
    tag=TAG,
    parameters=FILTER_PARAMS,
    response=schemas.AnalysisKpiVsExperience,
)
@require(Permission.VIEW_ANALYSIS)
def api_kpi_vs_experience() -> Any:
    return _with_filters(lambda f: kpi_vs_experience(orm(), f, use_rollup=rollup_for_pages(orm())).to_dict())


@bp.get("/analysis/kpis")
@document(
    "/analysis/kpis",
    "get",
    summary="KPI attainment per standard, breaches and trends",
    tag=TAG,
    parameters=FILTER_PARAMS,
    response=schemas.AnalysisKpis,
)
@require(Permission.VIEW_ANALYSIS)
def api_kpis() -> Any:
    return _with_filters(lambda f: kpi_analysis(orm(), f).to_dict())


@bp.get("/analysis/experience")
@document(
    "/analysis/experience",
    "get",
    summary="Six dimensions, region x dimension means, SERVQUAL gaps, importance-performance and key drivers",
    tag=TAG,
    parameters=FILTER_PARAMS,
    response=schemas.AnalysisExperience,
)
@require(Permission.VIEW_ANALYSIS)
def api_experience() -> Any:
    return _with_filters(lambda f: experience(orm(), f, use_rollup=rollup_for_pages(orm())).to_dict())


@bp.get("/analysis/evidence")
@document(
    "/analysis/evidence",
    "get",
    summary="The answers and comments behind a figure (kind, dimension, low=1, theme, page)",
    tag=TAG,
    parameters=FILTER_PARAMS,
    response=schemas.AnalysisEvidence,
)
@require(Permission.VIEW_ANALYSIS)
def api_evidence() -> Any:
    def build(f: AnalysisFilters) -> Any:
        data = evidence(
            orm(),
            f,
            kind=request.args.get("kind") or None,
            dimension=request.args.get("dimension") or None,
            low_only=request.args.get("low") == "1",
            theme_key=request.args.get("theme") or None,
            text_kind=request.args.get("text_kind") or None,
            page=request.args.get("page", 1, type=int) or 1,
        )
        out = to_jsonable(
            {"total": data.total, "page": data.page, "rows": data.rows, "comments": data.comments}
        )
        out["filters"] = f.to_dict()
        return out

    return _with_filters(build)


@bp.get("/analysis/demand")
@document(
    "/analysis/demand",
    "get",
    summary="Themes, common and emerging needs, and the classifiers' cross-validated accuracy",
    tag=TAG,
    parameters=FILTER_PARAMS,
    response=schemas.AnalysisDemand,
)
@require(Permission.VIEW_ANALYSIS)
def api_demand() -> Any:
    def build(f: AnalysisFilters) -> Any:
        language = "en" if request.args.get("lang") == "en" else "zh"  # theme labels' language
        out = demand(orm(), f, language).to_dict()
        out["classifiers"] = to_jsonable(classifier_status(orm()))
        return out

    return _with_filters(build)


@bp.post("/analysis/text-analysis/run")
@document(
    "/analysis/text-analysis/run",
    "post",
    summary="Re-run the text analysis (background job; 202 with the job to watch)",
    tag=TAG,
    response=schemas.TextAnalysisQueued,
    status=202,
)
@require(Permission.MANAGE_TEXT_ANALYSIS)
def api_run_text_analysis() -> Any:
    job_id = rerun_text_analysis(g.user.id)
    status_url = url_for("api.job_state", job_id=job_id) if job_id else None
    return jsonify({"queued": job_id is not None, "job_id": job_id, "status_url": status_url}), 202


@bp.patch("/analysis/themes/<key>")
@document(
    "/analysis/themes/{key}",
    "patch",
    summary="Name a theme (kept across re-runs)",
    tag=TAG,
    parameters=[{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
    request=schemas.ThemeName,
    response=schemas.Theme,
)
@require(Permission.MANAGE_TEXT_ANALYSIS)
def api_rename_theme(key: str) -> Any:
    body = json_object()
    if not isinstance(body.get("name"), str):
        raise UserError.one("name", "名称必须是字符串。", "The name must be a string.")
    theme = text_settings.rename_theme(orm(), key, body["name"])
    return jsonify({"key": theme.key, "name": theme.name})


@bp.post("/analysis/entries/<int:entry_id>/label")
@document(
    "/analysis/entries/{entry_id}/label",
    "post",
    summary="Label a text (category and/or sentiment); it trains the next run",
    tag=TAG,
    parameters=[{"name": "entry_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
    request=schemas.LabelInput,
    response=schemas.Label,
)
@require(Permission.MANAGE_TEXT_ANALYSIS)
def api_label(entry_id: int) -> Any:
    entry = get_or_404(TextEntry, entry_id)
    data = json_object()
    label = label_entry(
        orm(), entry, category=data.get("category"), sentiment=data.get("sentiment"), user_id=g.user.id
    )
    return jsonify({"entry_id": entry.id, "category": label.category, "sentiment": label.sentiment})


def _opportunity_json(o: Opportunity) -> dict[str, Any]:
    return {
        "id": o.id,
        "kind": o.kind,
        "theme_key": o.theme_key,
        "title": o.title,
        "summary_zh": o.summary_zh,
        "summary_en": o.summary_en,
        "period_start": o.period_start.isoformat() if o.period_start else None,
        "period_end": o.period_end.isoformat() if o.period_end else None,
        "status": o.status,
        "owner_id": o.owner_id,
        "region_ids": sorted(r.region_id for r in o.regions),
        "notes": o.notes,
    }


@bp.get("/analysis/opportunities")
@document(
    "/analysis/opportunities",
    "get",
    summary="Market opportunities in your scope (status, queue=1)",
    tag=TAG,
    response=schemas.AnalysisOpportunities,
)
@require(Permission.VIEW_MARKET)
def api_opportunities() -> Any:
    rows = opportunities(
        orm(),
        region_ids=region_scope(),
        status=request.args.get("status") or None,
        queue_for=g.user.id if request.args.get("queue") == "1" else None,
    )
    return jsonify({"items": [_opportunity_json(o) for o in rows]})


@bp.post("/analysis/opportunities")
@document(
    "/analysis/opportunities",
    "post",
    summary="Send a common or emerging need to the market-expansion department",
    tag=TAG,
    request=schemas.OpportunityInput,
    response=schemas.Opportunity,
    status=201,
)
@require(Permission.MANAGE_TEXT_ANALYSIS, Permission.MANAGE_MARKET)
def api_create_opportunity() -> Any:
    data = json_object()
    try:  # a malformed period raises FilterError: 422 naming "from" or "to"
        filters = filters_for_user(
            orm(), {"from": data.get("from"), "to": data.get("to")}, today=current_clock().today()
        )
    except OutOfScope:  # a customer outside the user's regions: refused as before, not a 404
        raise UserError.one(
            "region",
            "不在您可查看的地区范围内。",
            "This is outside the regions you may see.",
            code="out_of_scope",
        ) from None
    opp = create_from_need(
        orm(),
        kind=str(data.get("kind") or ""),
        theme_key=str(data.get("theme_key") or ""),
        period_start=filters.start,
        period_end=filters.end,
        region_ids=region_scope(),
        created_by_id=g.user.id,
        owner_id=data.get("owner_id") if isinstance(data.get("owner_id"), int) else None,
    )
    return jsonify(_opportunity_json(opp)), 201


@bp.patch("/analysis/opportunities/<int:opp_id>")
@document(
    "/analysis/opportunities/{opp_id}",
    "patch",
    summary="Update an opportunity's status, owner or notes",
    tag=TAG,
    parameters=[{"name": "opp_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
    request=schemas.OpportunityChange,
    response=schemas.Opportunity,
)
@require(Permission.MANAGE_MARKET)
def api_update_opportunity(opp_id: int) -> Any:
    opp = get_or_404(Opportunity, opp_id)
    data = json_object()
    update_opportunity(
        orm(),
        opp,
        OpportunityUpdate(
            status=data.get("status"),
            owner_id=data.get("owner_id") if isinstance(data.get("owner_id"), int) else None,
            clear_owner="owner_id" in data and data["owner_id"] is None,
            notes=data.get("notes"),
        ),
    )
    return jsonify(_opportunity_json(opp))


@bp.get("/analysis/alerts")
@document(
    "/analysis/alerts",
    "get",
    summary="Alerts in your scope, newest first (mine=1: addressed to you)",
    tag=TAG,
    response=schemas.AnalysisAlerts,
)
@require(Permission.VIEW_ANALYSIS)
def api_alerts() -> Any:
    rows = alerts_for(orm(), region_scope(), user_id=g.user.id, mine_only=request.args.get("mine") == "1")
    return jsonify(
        {
            "items": [
                {
                    "id": a.id,
                    "kind": a.kind,
                    "region_id": a.region_id,
                    "service_id": a.service_id,
                    "period_start": a.period_start.isoformat() if isinstance(a.period_start, date) else None,
                    "message_zh": a.message_zh,
                    "message_en": a.message_en,
                    "evidence_url": a.evidence_url,
                    "status": a.status,
                    "raised_at": a.raised_at.isoformat(),
                }
                for a in rows
            ]
        }
    )
