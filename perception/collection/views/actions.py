"""Actions on one weekly report besides editing: importing rows, the organiser's accept and return."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _

from perception.collection import access
from perception.collection.forms import ImportForm, ReturnForm
from perception.collection.services import report_import as collection_import
from perception.collection.services import reports as collection_reports
from perception.collection.services.errors import CollectionError
from perception.collection.views import bp
from perception.collection.views.reports import render_report
from perception.core.authz import Permission, require
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.core.i18n import is_zh
from perception.core.transaction import atomic


@bp.post("/reports/<int:report_id>/import")
@require(Permission.SUBMIT_REPORT)
def import_entries(report_id: int) -> Any:
    rep = access.report_or_404(report_id)
    if not access.may_edit(rep):
        abort(403)
    form = ImportForm()
    if not form.validate_on_submit():
        abort(400)
    upload = form.file.data
    data: bytes | str | None = upload.read() if upload and upload.filename else None
    if data is None and (form.pasted.data or "").strip():
        data = form.pasted.data or ""
    try:
        if data is None:
            raise CollectionError.one(
                "file", "请选择文件或粘贴数据。", "Choose a file or paste rows.", code="required"
            )
        with atomic():  # the page is shown again with the report as it was stored
            added = collection_import.import_entries(
                orm(), rep, upload.filename if upload else None, data, access.user()
            )
    except CollectionError as exc:
        zh = is_zh()
        messages = [_("Nothing was imported.")] + [p.located(zh) for p in exc.problems]
        return render_report(rep, None, messages, 422)
    flash(_("%(n)s entries imported.", n=added), "success")
    return redirect(url_for("collection.report", report_id=rep.id))


@bp.post("/reports/<int:report_id>/accept")
@require(Permission.ORGANISE_REPORTS)
def accept(report_id: int) -> Any:
    rep = access.report_or_404(report_id)
    try:
        with atomic():
            collection_reports.accept_report(orm(), rep, access.user(), now=current_clock().now())
    except CollectionError as exc:
        flash(exc.problems[0].text(is_zh()), "error")
    else:
        flash(_("Report accepted."), "success")
    return redirect(url_for("collection.report", report_id=report_id))


@bp.post("/reports/<int:report_id>/return")
@require(Permission.ORGANISE_REPORTS)
def return_report(report_id: int) -> Any:
    rep = access.report_or_404(report_id)
    form = ReturnForm()
    try:
        form.validate_on_submit()
        with atomic():
            collection_reports.return_report(
                orm(), rep, access.user(), form.comment.data or "", now=current_clock().now()
            )
    except CollectionError as exc:
        flash(exc.problems[0].text(is_zh()), "error")
    else:
        flash(_("Report returned to the collection point."), "success")
    return redirect(url_for("collection.report", report_id=report_id))
