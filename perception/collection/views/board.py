"""The organiser's completeness board and the consolidation of every region's entries."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from perception.collection import access
from perception.collection.forms import DuplicateForm
from perception.collection.labels import VOCABS
from perception.collection.models.reports import ReportEntry
from perception.collection.services import consolidation as merging
from perception.collection.services.analysis import conformity
from perception.collection.services.board import completeness, region_completeness, weeks_between
from perception.collection.services.errors import CollectionError
from perception.collection.views import bp
from perception.core.audit import record
from perception.core.authz import Permission, require, scoped
from perception.core.clock import current_clock
from perception.core.errors import UserError
from perception.core.extensions import orm
from perception.core.i18n import is_zh
from perception.core.models.org import CollectionPoint, CustomerOrg, Region
from perception.core.periods import parse_day, week_from_label, week_start
from perception.core.transaction import atomic, writes
from perception.setup.models.catalog import Service

MAX_WEEKS = 53


def _week_arg(name: str) -> date | None:
    """An ISO week label (2026-W47) or any date of the week (2026-11-16)."""
    value = (request.args.get(name) or "").strip()
    try:
        return week_from_label(value)
    except ValueError:
        pass
    try:
        return week_start(parse_day(value, name))
    except UserError:  # the page falls back to its default weeks
        return None


def _weeks(default_weeks: int) -> tuple[date, date]:
    """?from=&to= weeks (or ?week= for the weeks up to that one; default: the last
    ``default_weeks`` weeks), at most a year."""
    last = _week_arg("to") or _week_arg("week") or current_clock().week_start() - timedelta(weeks=1)
    first = _week_arg("from") or last - timedelta(weeks=default_weeks - 1)
    if first > last:
        first, last = last, first
    first = max(first, last - timedelta(weeks=MAX_WEEKS - 1))
    return first, last


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value or None


@bp.get("/board")
@require(Permission.ORGANISE_REPORTS)
def board() -> Any:
    first, last = _weeks(8)
    regions = access.scope_regions()
    region_id = _int_arg("region")
    if region_id is not None:
        regions = frozenset({region_id}) if regions is None or region_id in regions else frozenset()
    cells = completeness(orm(), first, last, now=current_clock().now(), region_ids=regions)
    grid: dict[int, dict[date, Any]] = {}
    for c in cells:
        grid.setdefault(c.collection_point_id, {})[c.week_start] = c
    return render_template(
        "collection/board.html",
        weeks=weeks_between(first, last),
        grid=grid,
        rates=region_completeness(cells),
        points={p.id: p for p in orm().scalars(select(CollectionPoint))},
        regions={r.id: r for r in orm().scalars(scoped(select(Region).order_by(Region.code), Region))},
        first=first,
        last=last,
        region_id=region_id,
    )


def _filter() -> merging.EntryFilter:
    first, last = _weeks(1)
    kind = request.args.get("kind") or None
    dimension = request.args.get("dimension") or None
    return merging.EntryFilter(
        first_week=first,
        last_week=last,
        kind=kind if kind in VOCABS["kind"] else None,
        dimension=dimension if dimension in VOCABS["dimension"] else None,
        customer_id=_int_arg("customer"),
        service_id=_int_arg("service"),
        region_id=_int_arg("region"),
        text=(request.args.get("q") or "").strip()[:200] or None,
        hide_duplicates=request.args.get("hide_duplicates") == "1",
    )


PAGE = 200


@bp.get("/consolidation")
@require(Permission.ORGANISE_REPORTS)
def consolidation() -> Any:
    f = _filter()
    stmt = scoped(merging.entries_query(f), ReportEntry)
    total = orm().scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    rows = orm().execute(stmt.limit(PAGE).offset((page - 1) * PAGE)).all()
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "collection/consolidation.html",
        rows=rows,
        total=total,
        page=page,
        pages=max((total + PAGE - 1) // PAGE, 1),
        f=f,
        args=args,
        customers={
            c.id: c
            for c in orm().scalars(scoped(select(CustomerOrg).order_by(CustomerOrg.code), CustomerOrg))
        },
        services={s.id: s for s in orm().scalars(select(Service).order_by(Service.code))},
        regions={r.id: r for r in orm().scalars(scoped(select(Region).order_by(Region.code), Region))},
        points={p.id: p for p in orm().scalars(select(CollectionPoint))},
        dup_form=DuplicateForm(),
    )


@bp.get("/consolidation/export")
@require(Permission.ORGANISE_REPORTS)
@writes  # records the export's audit row
def consolidation_export() -> Any:
    f = _filter()
    rows = orm().execute(scoped(merging.entries_query(f), ReportEntry)).all()
    table = merging.export_rows(orm(), rows, is_zh())
    fmt = request.args.get("format", "csv")
    record(orm(), "export", object_type="ReportEntry", summary=f"{len(rows)} consolidated entries as {fmt}")
    name = f"collection-{f.first_week.isoformat()}-{f.last_week.isoformat()}"
    if fmt == "xlsx":
        body = merging.to_xlsx(table)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, mime, fmt = merging.to_csv(table), "text/csv; charset=utf-8", "csv"
    return Response(
        body, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    )


@bp.post("/consolidation/duplicate")
@require(Permission.ORGANISE_REPORTS)
def mark_duplicate() -> Any:
    form = DuplicateForm()
    if not form.validate_on_submit():
        abort(400)
    entry = orm().scalar(scoped(select(ReportEntry).where(ReportEntry.id == form.entry_id.data), ReportEntry))
    if entry is None:
        abort(404)
    original = None
    if form.duplicate_of.data:
        original = orm().scalar(
            scoped(select(ReportEntry).where(ReportEntry.id == form.duplicate_of.data), ReportEntry)
        )
        if original is None:
            abort(404)
    try:
        with atomic():
            merging.mark_duplicate(orm(), entry, original)
    except CollectionError as exc:
        flash(exc.problems[0].text(is_zh()), "error")
    else:
        flash(_("Duplicate mark saved.") if original else _("Duplicate mark removed."), "success")
    back = request.form.get("next", "")
    return redirect(
        back if back.startswith("/collection/consolidation") else url_for("collection.consolidation")
    )


@bp.get("/standard-checks")
@require(Permission.VIEW_COLLECTION)
def standard_checks() -> Any:
    """Feedback records and tickets against the standard in force, per region and service."""
    first, last = _weeks(8)
    rows = conformity(orm(), first, last + timedelta(weeks=1), access.scope_regions())
    return render_template(
        "collection/standard_checks.html",
        rows=rows,
        first=first,
        last=last,
        regions={r.id: r for r in orm().scalars(select(Region))},
        services={s.id: s for s in orm().scalars(select(Service))},
    )
