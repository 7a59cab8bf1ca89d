"""Weekly reports: the list, one report (edit, submit, accept, return, import) and its revisions."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from perception.collection import access
from perception.collection.forms import (
    ROW_FIELDS,
    ImportForm,
    OpenReportForm,
    ReportForm,
    ReturnForm,
    vocab_choices,
)
from perception.collection.models.fieldwork import StandardCheck
from perception.collection.models.reports import CollectionReport
from perception.collection.services import reports as collection_reports
from perception.collection.services import vocab
from perception.collection.services.board import completeness
from perception.collection.services.entries import is_empty_row, parse_entries
from perception.collection.services.errors import CollectionError
from perception.collection.views import bp
from perception.core.authz import Permission, require
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.core.i18n import is_zh
from perception.core.models.org import CollectionPoint, CustomerOrg, Region
from perception.core.periods import week_from_label, week_start
from perception.core.transaction import atomic
from perception.setup.models.catalog import Service
from perception.surveys.services.followup import open_followups

KINDS = ("dynamic", "feedback", "requirement")
SELECT_VOCABS = {
    "category": vocab.CATEGORIES,
    "dimension": vocab.DIMENSIONS,
    "means": vocab.MEANS,
    "urgency": vocab.URGENCIES,
    "size": vocab.SIZES,
}


@bp.get("/")
@require(Permission.VIEW_COLLECTION)
def reports() -> Any:
    clock = current_clock()
    today = clock.today()
    points = access.point_scope()
    if points is not None:  # a collector: their own point, the last twelve weeks
        first, last = week_start(today) - timedelta(weeks=11), today
    else:
        try:
            chosen = week_from_label(request.args.get("week", ""))
        except ValueError:
            chosen = week_start(today) - timedelta(weeks=1)
        first = last = chosen
    cells = completeness(
        orm(), first, last, now=clock.now(), region_ids=access.scope_regions(), point_ids=points
    )
    cells.sort(key=lambda c: c.week_start, reverse=True)
    return render_template(
        "collection/reports.html",
        cells=cells,
        points={p.id: p for p in orm().scalars(select(CollectionPoint))},
        regions={r.id: r for r in orm().scalars(select(Region))},
        collector=points is not None,
        week=first,
        open_form=OpenReportForm(week=week_start(today).strftime("%G-W%V")),
        followups=open_followups(orm(), access.user()),
        may_organise=access.may_organise(),
    )


@bp.post("/reports/open")
@require(Permission.SUBMIT_REPORT)
def open_report() -> Any:
    form = OpenReportForm()
    point = orm().get(CollectionPoint, access.user().collection_point_id or 0)
    if point is None:
        abort(404)
    try:
        if not form.validate_on_submit():
            raise ValueError
        week = week_from_label(form.week.data or "")
    except ValueError:
        flash(_("Give the week as 2026-W47."), "error")
        return redirect(url_for("collection.reports"))
    try:
        with atomic():
            report = collection_reports.open_report(
                orm(), point, week, access.user(), now=current_clock().now()
            )
    except CollectionError as exc:
        flash(exc.problems[0].text(is_zh()), "error")
        return redirect(url_for("collection.reports"))
    return redirect(url_for("collection.report", report_id=report.id))


def _initial(report: CollectionReport) -> dict[str, list[dict[str, Any]]]:
    customers = dict(orm().execute(select(CustomerOrg.id, CustomerOrg.code)).all())
    services = dict(orm().execute(select(Service.id, Service.code)).all())
    data: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    for e in report.entries:
        row = {
            "customer": customers.get(e.customer_id or 0, ""),
            "service": services.get(e.service_id or 0, ""),
            "text": e.text,
            "category": e.category or "",
            "date": e.event_date.isoformat() if e.event_date else "",
            "impact": e.impact or "",
            "contact": e.contact_name or "",
            "dimension": e.dimension or "",
            "rating": str(e.rating) if e.rating else "",
            "means": e.means or "",
            "area": e.area or "",
            "urgency": e.urgency or "",
            "size": e.size or "",
        }
        data[e.kind].append({k: v for k, v in row.items() if k in ROW_FIELDS[e.kind]})
    return data


def _fill_choices(form: ReportForm, report: CollectionReport) -> None:
    zh = is_zh()
    customers = orm().scalars(
        select(CustomerOrg).where(CustomerOrg.region_id == report.region_id).order_by(CustomerOrg.code)
    )
    customer_choices = vocab_choices(
        {c.code: (f"{c.code} {c.name_zh}", f"{c.code} {c.name_en}") for c in customers}, zh
    )
    services = orm().scalars(select(Service).where(Service.active.is_(True)).order_by(Service.code))
    service_choices = vocab_choices(
        {s.code: (f"{s.code} {s.name_zh}", f"{s.code} {s.name_en}") for s in services}, zh
    )
    ratings = vocab_choices({str(i): (str(i), str(i)) for i in range(1, 6)}, zh)
    for kind in KINDS:
        for row in getattr(form, kind):
            sub = row.form
            sub.customer.choices = customer_choices
            sub.service.choices = service_choices
            for name, table in SELECT_VOCABS.items():
                if name in sub._fields:
                    sub[name].choices = vocab_choices(table, zh)
            if "rating" in sub._fields:
                sub.rating.choices = ratings


def _rows(form: ReportForm) -> tuple[list[dict[str, Any]], list[tuple[str, int]]]:
    rows: list[dict[str, Any]] = []
    where: list[tuple[str, int]] = []
    for kind in KINDS:
        for index, row in enumerate(getattr(form, kind)):
            data = dict(row.form.data)
            if is_empty_row(data):
                continue
            rows.append({"kind": kind, **data})
            where.append((kind, index))
    return rows, where


def _attach(form: ReportForm, exc: CollectionError, where: list[tuple[str, int]]) -> list[str]:
    """Put each problem on its row's field; return the ones that belong to no field."""
    zh, general = is_zh(), []
    for p in exc.problems:
        if p.row is not None and 0 < p.row <= len(where):
            kind, index = where[p.row - 1]
            sub = getattr(form, kind)[index].form
            if p.form_field in sub._fields:
                sub[p.form_field].errors = [*sub[p.form_field].errors, p.text(zh)]
                continue
        general.append(p.located(zh))
    return general


def _version(report: CollectionReport) -> str:
    """Names the stored state the form shows: a draft kept on the phone (static/js/drafts.js)
    is restored only on the state it was typed on, never over a report saved since."""
    state = [report.status, report.revision, _initial(report)]
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()[:16]


def render_report(
    report: CollectionReport, form: ReportForm | None, errors: list[str], status: int = 200
) -> Any:
    checks = {
        c.source_id: c
        for c in orm().scalars(
            select(StandardCheck).where(
                StandardCheck.source == "feedback",
                StandardCheck.source_id.in_([e.id for e in report.entries]),
            )
        )
    }
    point = orm().get(CollectionPoint, report.collection_point_id)
    region = orm().get(Region, report.region_id)
    cell = completeness(
        orm(),
        report.week_start,
        report.week_start,
        now=current_clock().now(),
        point_ids=[report.collection_point_id],
    )
    return render_template(
        "collection/report.html",
        report=report,
        draft_version=_version(report) if form is not None else "",
        point=point,
        region=region,
        cell=cell[0] if cell else None,
        form=form,
        errors=errors,
        checks=checks,
        customers={
            c.id: c
            for c in orm().scalars(select(CustomerOrg).where(CustomerOrg.region_id == report.region_id))
        },
        services={s.id: s for s in orm().scalars(select(Service))},
        return_form=ReturnForm(),
        import_form=ImportForm(),
        may_organise=access.may_organise(),
    ), status


@bp.route("/reports/<int:report_id>", methods=["GET", "POST"])
@require(Permission.VIEW_COLLECTION)
def report(report_id: int) -> Any:
    rep = access.report_or_404(report_id)
    editable = access.may_edit(rep)
    if request.method == "GET":
        form = ReportForm(data=_initial(rep)) if editable else None
        if form is not None:
            for kind in KINDS:
                getattr(form, kind).append_entry()
            _fill_choices(form, rep)
        return render_report(rep, form, [])
    if not editable:
        abort(403)
    form = ReportForm()
    action = request.form.get("action", "save")
    if action.startswith("add_") and action[4:] in KINDS:
        getattr(form, action[4:]).append_entry()
        _fill_choices(form, rep)
        return render_report(rep, form, [])
    if not form.validate_on_submit():
        _fill_choices(form, rep)
        return render_report(rep, form, [_("Please correct the highlighted fields.")], 422)
    rows, where = _rows(form)
    try:
        with atomic():  # the page is shown again with the report as it was stored
            entries = parse_entries(orm(), rows, rep.region_id, rep.week_start)
            collection_reports.save_entries(orm(), rep, entries, access.user())
            if action == "submit":
                collection_reports.submit_report(orm(), rep, access.user(), now=current_clock().now())
    except CollectionError as exc:
        _fill_choices(form, rep)
        return render_report(rep, form, _attach(form, exc, where), 422)
    flash(_("Report submitted.") if action == "submit" else _("Draft saved."), "success")
    return redirect(url_for("collection.report", report_id=rep.id))
