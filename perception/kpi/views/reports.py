"""SLA attainment per standard, the breach list, and the SLA-failure reports (page, CSV, PDF)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from perception.core.audit import record
from perception.core.authz import Permission, require
from perception.core.clock import current_clock
from perception.core.errors import UserError
from perception.core.extensions import orm
from perception.core.i18n import lang_code
from perception.core.transaction import writes
from perception.kpi.services.attainment_kept import MAX_AGE, default_period, kept_attainment
from perception.kpi.services.messages import KpiError
from perception.kpi.services.report_csv import report_csv
from perception.kpi.services.report_pdf import report_pdf
from perception.kpi.services.reports import MONTHLY, QUARTERLY, report_period, sla_failure_report
from perception.kpi.views import bp
from perception.kpi.views.common import date_arg, error_text, scope
from perception.setup.models.catalog import Service
from perception.setup.services.plan import provider_names


@bp.get("/attainment")
@require(Permission.VIEW_KPI)
def attainment() -> Any:
    default_start, default_end = default_period(current_clock().today())
    try:
        start, end = date_arg("from", default_start), date_arg("to", default_end)
        if end <= start:
            raise KpiError.one(
                "to", "结束日期须晚于开始日期", "the end must be after the start", code="bad_range"
            )
    except UserError as exc:
        flash(error_text(exc), "error")
        start, end = default_start, default_end
    kept = kept_attainment(orm(), start, end, granularity="month", region_ids=scope(), limit=200)
    service_names = {s.id: s for s in orm().scalars(select(Service))}
    return render_template(
        "kpi/attainment.html",
        rows=kept.rows,
        breaches=kept.breaches,
        start=start,
        end=end,
        services=service_names,
        computed_at=kept.computed_at,
        max_age_minutes=int(MAX_AGE.total_seconds() // 60),
    )


@bp.get("/reports/<kind>")
@require(Permission.VIEW_KPI)
@writes  # records the export's audit row
def report(kind: str) -> Any:
    if kind not in (MONTHLY, QUARTERLY):
        return redirect(url_for("kpi.report", kind=MONTHLY))
    today = current_clock().today()
    try:
        start, end = report_period(kind, request.args.get("period"), today)
    except KpiError as exc:
        flash(error_text(exc), "error")
        start, end = report_period(kind, None, today)
    data = sla_failure_report(orm(), kind, start, end, region_ids=scope())
    fmt = request.args.get("format", "html")
    language = "zh" if (request.args.get("lang") or lang_code()).startswith("zh") else "en"
    if fmt in ("csv", "pdf"):
        part = "breaches" if request.args.get("part") == "breaches" else "lines"
        record(
            orm(), "export", object_type="SlaFailureReport", summary=f"{kind} {data.label} {fmt} {language}"
        )
        name = f"sla-{kind}-{data.label}-{language}"
        if fmt == "csv":
            body = report_csv(data, language, part).encode("utf-8")
            return Response(
                body,
                mimetype="text/csv",
                headers={"Content-Disposition": f'attachment; filename="{name}-{part}.csv"'},
            )
        zh, en = provider_names(orm())
        organisation = str(current_app.config.get("ORGANISATION_NAME") or "") or (
            (zh or en) if language.startswith("zh") else (en or zh)
        )
        pdf = report_pdf(data, language, organisation=organisation)
        return Response(
            pdf,
            mimetype="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
        )
    return render_template("kpi/report.html", report=data, kind=kind)
