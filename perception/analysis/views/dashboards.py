"""Dashboards: overview, internal KPIs, experience, KPI versus experience, the evidence behind a
number, charts (SVG images) and table exports. Views are thin: filters, one service, render. A
chart draws from the view its page just computed (perception.analysis.views.recent). Whether the
experience aggregates may read the weekly rollup is decided here (perception.analysis.jobs)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, request

from perception.analysis.jobs import rollup_for_pages
from perception.analysis.services import charts
from perception.analysis.services.demand import theme_labels
from perception.analysis.services.evidence import evidence as evidence_service
from perception.analysis.services.experience import ExperienceView
from perception.analysis.services.experience import experience as experience_service
from perception.analysis.services.exports import FORMATS, export
from perception.analysis.services.facts import DIMENSION_CODES
from perception.analysis.services.filters import AnalysisFilters
from perception.analysis.services.kpi_experience import (
    WATERMELON_LIST_SIZE,
    KpiExperienceView,
    cell_page,
    kept_kpi_vs_experience,
    quadrant_lists,
    watermelon_cells,
)
from perception.analysis.services.kpis import kpi_analysis
from perception.analysis.services.names import load_names
from perception.analysis.services.overview import OverviewView
from perception.analysis.services.overview import overview as overview_service
from perception.analysis.services.tables import BUILDERS
from perception.analysis.views import bp
from perception.analysis.views.common import current_filters, page_context
from perception.analysis.views.recent import REUSE_SECONDS, computed
from perception.core.authz import Permission, region_scope, require
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.core.i18n import is_zh
from perception.core.transaction import writes
from scoring import IPA_QUADRANTS, QUADRANTS


def _overview(filters: AnalysisFilters) -> OverviewView:
    # The page lists the look's flags: its summary, not every test (services.changes).
    return overview_service(
        orm(), filters, use_rollup=rollup_for_pages(orm()), today=current_clock().today(), whole_look=False
    )


def _kpi_vs_experience(filters: AnalysisFilters) -> KpiExperienceView:
    # The page and its chart do not show the correlations over each cell's weeks (the API does);
    # the view is kept while its data are unchanged (kept_kpi_vs_experience).
    return kept_kpi_vs_experience(orm(), filters, use_rollup=rollup_for_pages(orm()))


def _experience(filters: AnalysisFilters) -> ExperienceView:
    return experience_service(orm(), filters, use_rollup=rollup_for_pages(orm()))


@bp.get("/")
@bp.get("/overview")
@require(Permission.VIEW_ANALYSIS)
def overview() -> Any:
    filters, error = current_filters()
    view = computed("overview", filters, lambda: _overview(filters), reuse=False)
    names = load_names(orm(), customers=False)
    return render_template("analysis/overview.html", **page_context(filters, error, view=view, names=names))


@bp.get("/kpi-vs-experience")
@require(Permission.VIEW_ANALYSIS)
def kpi_vs_experience() -> Any:
    filters, error = current_filters()
    # Turning the table's pages of a view just computed draws from it, as its charts do (within
    # REUSE_SECONDS, same sign-in and filters); opening the page reads the write counter of its
    # data and computes afresh unless the view kept for the same filters is still current.
    paging = "page" in request.args or "quadrant" in request.args
    view = computed("kpi_vs_experience", filters, lambda: _kpi_vs_experience(filters), reuse=paging)
    table = cell_page(view, request.args.get("page", 1, type=int), request.args.get("quadrant") or None)
    return render_template(
        "analysis/kpi_vs_experience.html",
        **page_context(
            filters, error, view=view, quadrants=QUADRANTS, melons=watermelon_cells(view), table=table,
            quadrant_lists=quadrant_lists(view), list_size=WATERMELON_LIST_SIZE,
        ),
    )  # fmt: skip


@bp.get("/kpis")
@require(Permission.VIEW_ANALYSIS)
def kpis() -> Any:
    filters, error = current_filters()
    # Issue 19: the per-region table is paged (100 regions x 50 services x 10 KPIs is 50,000 cells).
    page = request.args.get("page", 1, type=int) or 1
    view = computed(
        "kpis", filters, lambda: kpi_analysis(orm(), filters, region_page=page, keep=True), reuse=False
    )
    return render_template("analysis/kpis.html", **page_context(filters, error, view=view))


@bp.get("/experience")
@require(Permission.VIEW_ANALYSIS)
def experience() -> Any:
    filters, error = current_filters()
    view = computed("experience", filters, lambda: _experience(filters), reuse=False)
    return render_template(
        "analysis/experience.html",
        **page_context(
            filters, error, view=view, ipa_quadrants=IPA_QUADRANTS, dimension_codes=DIMENSION_CODES
        ),
    )


def _opportunity_texts(opportunity_id: int | None) -> list[list[Any]] | None:
    """The texts an opportunity was made from, when the link names one the user may see."""
    if opportunity_id is None:
        return None
    from perception.analysis.models import Opportunity

    opp = orm().get(Opportunity, opportunity_id)
    scope = region_scope()
    if opp is None or (scope is not None and not {r.region_id for r in opp.regions} & scope):
        abort(404)
    return list(opp.entry_refs or [])


@bp.get("/evidence")
@require(Permission.VIEW_ANALYSIS)
def evidence() -> Any:
    filters, error = current_filters()
    data = evidence_service(
        orm(),
        filters,
        text_refs=_opportunity_texts(request.args.get("opportunity", type=int)),
        kind=request.args.get("kind") or None,
        dimension=request.args.get("dimension") or None,
        low_only=request.args.get("low") == "1",
        theme_key=request.args.get("theme") or None,
        text_kind=request.args.get("text_kind") or None,
        page=request.args.get("page", 1, type=int) or 1,
    )
    names = load_names(orm())
    theme_names = theme_labels(orm(), "zh" if is_zh() else "en")
    return render_template(
        "analysis/evidence.html",
        **page_context(filters, error, data=data, names=names, theme_names=theme_names),
    )


CHARTS = ("overview_trend", "region_csat", "quadrant", "heatmap", "dimensions", "kpi_trend")


@bp.get("/chart/<name>.svg")
@require(Permission.VIEW_ANALYSIS)
def chart(name: str) -> Any:
    if name not in CHARTS:
        abort(404)
    filters, _ = current_filters()
    zh = is_zh()
    if name in ("overview_trend", "region_csat"):
        view = computed("overview", filters, lambda: _overview(filters), reuse=True)
        data = (
            charts.overview_trend_chart(view, zh)
            if name == "overview_trend"
            else charts.region_csat_chart(view, zh)
        )
    elif name == "quadrant":
        comparison = computed("kpi_vs_experience", filters, lambda: _kpi_vs_experience(filters), reuse=True)
        data = charts.quadrant_matrix_chart(comparison, zh)
    elif name in ("heatmap", "dimensions"):
        exp = computed("experience", filters, lambda: _experience(filters), reuse=True)
        data = (
            charts.dimension_heatmap_chart(exp, zh)
            if name == "heatmap"
            else charts.dimension_bar_chart(exp, zh)
        )
    else:
        wanted = request.args.get("kpi", type=int)
        analysis = computed(
            "kpis", filters, lambda: kpi_analysis(orm(), filters, region_page=1, keep=True), reuse=True
        )
        trend = next((t for t in analysis.trends if t.definition_id == wanted), None)
        if trend is None:
            abort(404)
        data = charts.kpi_trend_chart(trend, zh)
    return Response(
        data, mimetype="image/svg+xml", headers={"Cache-Control": f"private, max-age={REUSE_SECONDS}"}
    )


@bp.get("/export/<name>.<fmt>")
@require(Permission.VIEW_ANALYSIS)
@writes  # records the export's audit row
def export_table(name: str, fmt: str) -> Any:
    if name not in BUILDERS or fmt not in FORMATS:
        abort(404)
    filters, _ = current_filters()
    table = BUILDERS[name](orm(), filters, use_rollup=rollup_for_pages(orm()))
    data, mime, filename = export(orm(), table, fmt, is_zh(), summary=str(filters.query_args()))
    return Response(
        data, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
