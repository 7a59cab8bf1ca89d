"""Import pages: upload -> dry run (what would change) -> apply; the import history; recompute."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from perception.core.authz import Permission, current_user, require
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.core.i18n import lang_code
from perception.core.jobs import enqueue
from perception.core.transaction import atomic
from perception.core.uploads import DEFAULT_MAX_UNPACKED_BYTES, upload_on_disk
from perception.kpi.forms import ApplyForm, ComputeForm, ImportForm
from perception.kpi.models import ImportBatch, ImportKind, ImportStatus
from perception.kpi.services.files import DEFAULT_MAX_BYTES, DEFAULT_MAX_EXCEL_ROWS
from perception.kpi.services.jobs import recompute_recent
from perception.kpi.services.messages import KpiError, KpiImportError, problem
from perception.kpi.services.ticket_import import ImportOptions, apply_dry_run, import_tickets
from perception.kpi.services.value_import import import_kpi_values
from perception.kpi.views import bp
from perception.kpi.views.common import error_text, problems_text, scope


def options(*, dry_run: bool, allow_duplicate: bool = False) -> ImportOptions:
    cfg = current_app.config
    user = current_user()
    return ImportOptions(
        dry_run=dry_run,
        allow_duplicate=allow_duplicate,
        user_id=user.id if user is not None else None,
        allowed_regions=scope(),
        store_dir=Path(current_app.instance_path) / "kpi_imports",
        max_bytes=int(
            cfg.get("KPI_IMPORT_MAX_BYTES")
            or min(cfg.get("MAX_CONTENT_LENGTH") or DEFAULT_MAX_BYTES, DEFAULT_MAX_BYTES)
        ),
        max_excel_rows=int(cfg.get("KPI_IMPORT_MAX_EXCEL_ROWS") or DEFAULT_MAX_EXCEL_ROWS),
        max_unpacked_bytes=int(cfg.get("UPLOAD_MAX_UNPACKED_BYTES") or DEFAULT_MAX_UNPACKED_BYTES),
    )


@bp.route("/import", methods=["GET", "POST"])
@require(Permission.MANAGE_KPI)
def import_page() -> Any:
    form = ImportForm()
    problems: list[str] = []
    status = 200
    if form.validate_on_submit():
        upload = form.upload.data
        run = import_tickets if form.kind.data == ImportKind.TICKETS else import_kpi_values
        checking = options(dry_run=True)
        try:
            # read from a temporary copy on disk, in chunks: the upload is never held whole
            with upload_on_disk(upload.stream, checking.max_bytes, KpiImportError) as path, atomic():
                result = run(orm(), checking, data=path, filename=upload.filename or None)
        except KpiImportError as exc:
            problems = problems_text(exc)
            status = exc.status  # 413 for a file over a limit, 422 for what is in it
            if exc.total > len(exc.problems):
                problems.append(_("… and %(n)s more problems.", n=exc.total - len(exc.problems)))
        else:
            return redirect(url_for("kpi.import_preview", batch_id=result.batch_id))
    return render_template(
        "kpi/import.html",
        form=form,
        problems=problems,
        max_mb=options(dry_run=True).max_bytes // 1048576,
        max_rows=options(dry_run=True).max_excel_rows,
    ), status


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(_exc: RequestEntityTooLarge) -> Any:
    """Flask refuses bodies over MAX_CONTENT_LENGTH before the view runs: say which limit."""
    limit = int(current_app.config.get("MAX_CONTENT_LENGTH") or DEFAULT_MAX_BYTES)
    mb = f"{limit / 1048576:.1f}".removesuffix(".0")
    problem_ = problem(None, None, None, "too_large", size=f"> {mb}", limit=mb)
    page = render_template(
        "kpi/import.html",
        form=ImportForm(formdata=None),
        problems=[problem_.located(lang_code())],
        max_mb=mb,
        max_rows=options(dry_run=True).max_excel_rows,
    )
    return page, 413


@bp.get("/imports/<int:batch_id>")
@require(Permission.MANAGE_KPI)
def import_preview(batch_id: int) -> Any:
    batch = orm().get(ImportBatch, batch_id)
    if batch is None:
        abort(404)
    duplicate = orm().scalar(
        select(ImportBatch)
        .where(
            ImportBatch.sha256 == batch.sha256,
            ImportBatch.kind == batch.kind,
            ImportBatch.status == ImportStatus.APPLIED,
            ImportBatch.id != batch.id,
        )
        .order_by(ImportBatch.id.desc())
        .limit(1)
    )
    return render_template("kpi/import_preview.html", batch=batch, duplicate=duplicate, form=ApplyForm())


@bp.post("/imports/<int:batch_id>/apply")
@require(Permission.MANAGE_KPI)
def import_apply(batch_id: int) -> Any:
    batch = orm().get(ImportBatch, batch_id)
    form = ApplyForm()
    if batch is None or not form.validate_on_submit():
        flash(_("The import could not be applied; start again."), "error")
        return redirect(url_for("kpi.import_page"))
    try:
        with atomic():
            result = apply_dry_run(
                orm(), batch, options(dry_run=False, allow_duplicate=bool(form.allow_duplicate.data))
            )
    except KpiImportError as exc:
        for text in problems_text(exc):
            flash(text, "error")
        return redirect(url_for("kpi.import_preview", batch_id=batch_id))
    if result.kind == ImportKind.TICKETS and result.rows_new + result.rows_changed:
        enqueue("compute_kpis", weeks=26)  # in-process without Redis, else by a worker
    flash(
        _(
            "Imported: %(new)s new, %(changed)s changed, %(same)s unchanged.",
            new=result.rows_new,
            changed=result.rows_changed,
            same=result.rows_unchanged,
        ),
        "success",
    )
    return redirect(url_for("kpi.imports"))


@bp.get("/imports")
@require(Permission.MANAGE_KPI)
def imports() -> Any:
    rows = orm().scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(200)).all()
    return render_template("kpi/imports.html", rows=rows, form=ComputeForm())


@bp.post("/compute")
@require(Permission.MANAGE_KPI)
def compute() -> Any:
    form = ComputeForm()
    if not form.validate_on_submit():
        flash(_("Give a number of weeks between 1 and 104."), "error")
        return redirect(url_for("kpi.imports"))
    try:
        with atomic():
            summary = recompute_recent(
                orm(), weeks=int(form.weeks.data or 26), clock=current_clock(), region_ids=scope()
            )
    except KpiError as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("kpi.imports"))
    flash(
        _(
            "KPIs recomputed: %(tickets)s tickets, %(values)s values.",
            tickets=summary.tickets,
            values=summary.values,
        ),
        "success",
    )
    return redirect(url_for("kpi.index"))
