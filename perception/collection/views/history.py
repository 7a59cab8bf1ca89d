"""Importing past weekly reports (organiser) and past callbacks into a callback campaign from the pages:
upload -> dry run -> preview -> apply, with the survey history import's pages and options."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from perception.collection.models.fieldwork import CallbackCampaign
from perception.collection.services.callback_history import KIND as CALLBACKS
from perception.collection.services.callback_history import import_callbacks
from perception.collection.services.report_history import KIND as REPORTS
from perception.collection.services.report_history import import_reports
from perception.collection.views import bp
from perception.core.authz import Permission, get_or_404, require
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.core.transaction import atomic
from perception.kpi.models import ImportStatus
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions, ImportResult, stored_upload
from perception.surveys.forms import HistoryApplyForm, HistoryUploadForm
from perception.surveys.views.history import dry_run_batch, history_options, problem_lines

Run = Callable[[ImportOptions, bytes, str | None, Any], ImportResult]


def _upload(run: Run, title: str, columns_help: str, back: str, preview: Callable[[int], str]) -> Any:
    form = HistoryUploadForm()
    problems: list[str] = []
    if form.validate_on_submit():
        upload = form.upload.data
        try:
            with atomic():
                result = run(history_options(dry_run=True), upload.read(), upload.filename or None, None)
        except KpiImportError as exc:
            problems = problem_lines(exc)
        else:
            return redirect(preview(result.batch_id))
    return render_template("surveys/history_import.html", form=form, problems=problems, title=title,
                           columns_help=columns_help, back=back, campaign=None)  # fmt: skip


def _apply(run: Run, kind: str, batch_id: int, here: str, done: str) -> Any:
    batch = dry_run_batch(batch_id, kind)
    if not HistoryApplyForm().validate_on_submit() or batch.status != ImportStatus.DRY_RUN:
        flash(_("The import could not be applied; start again."), "error")
        return redirect(here)
    options = history_options(dry_run=False)
    try:
        with atomic():
            result = run(options, stored_upload(options, batch), batch.filename, batch)
    except KpiImportError as exc:
        for line in problem_lines(exc):
            flash(line, "error")
        return redirect(here)
    flash(_("Imported: %(new)s new, %(changed)s changed, %(same)s unchanged.", new=result.rows_new,
            changed=result.rows_changed, same=result.rows_unchanged), "success")  # fmt: skip
    return redirect(done)


def _reports(options: ImportOptions, data: bytes, filename: str | None, batch: Any) -> ImportResult:
    return import_reports(orm(), options, data=data, filename=filename, batch=batch)


@bp.route("/reports/history", methods=["GET", "POST"])
@require(Permission.ORGANISE_REPORTS)
def reports_history() -> Any:
    def preview(batch_id: int) -> str:
        return url_for("collection.reports_history_preview", batch_id=batch_id)

    return _upload(_reports, _("Import past weekly reports"), "reports", url_for("collection.board"), preview)


@bp.get("/reports/history/<int:batch_id>")
@require(Permission.ORGANISE_REPORTS)
def reports_history_preview(batch_id: int) -> Any:
    batch = dry_run_batch(batch_id, REPORTS)
    return render_template("surveys/history_preview.html", batch=batch, form=HistoryApplyForm(),
                           apply_url=url_for("collection.reports_history_apply", batch_id=batch.id),
                           back=url_for("collection.reports_history"))  # fmt: skip


@bp.post("/reports/history/<int:batch_id>/apply")
@require(Permission.ORGANISE_REPORTS)
def reports_history_apply(batch_id: int) -> Any:
    here = url_for("collection.reports_history_preview", batch_id=batch_id)
    return _apply(_reports, REPORTS, batch_id, here, url_for("collection.board"))


def _calls(campaign: CallbackCampaign) -> Run:
    def run(options: ImportOptions, data: bytes, filename: str | None, batch: Any) -> ImportResult:
        return import_callbacks(orm(), campaign, options, org_timezone=current_clock().timezone, data=data,
                                filename=filename, batch=batch)  # fmt: skip

    return run


@bp.route("/callbacks/<int:campaign_id>/history", methods=["GET", "POST"])
@require(Permission.ORGANISE_REPORTS)
def callbacks_history(campaign_id: int) -> Any:
    campaign = get_or_404(CallbackCampaign, campaign_id)
    back = url_for("collection.callback_campaign", campaign_id=campaign.id)

    def preview(batch_id: int) -> str:
        return url_for("collection.callbacks_history_preview", campaign_id=campaign.id, batch_id=batch_id)

    title = _("Import past callbacks into %(name)s", name=campaign.name)
    return _upload(_calls(campaign), title, "callbacks", back, preview)


@bp.get("/callbacks/<int:campaign_id>/history/<int:batch_id>")
@require(Permission.ORGANISE_REPORTS)
def callbacks_history_preview(campaign_id: int, batch_id: int) -> Any:
    campaign = get_or_404(CallbackCampaign, campaign_id)
    batch = dry_run_batch(batch_id, CALLBACKS)
    return render_template(
        "surveys/history_preview.html", batch=batch, form=HistoryApplyForm(),
        apply_url=url_for("collection.callbacks_history_apply", campaign_id=campaign.id, batch_id=batch.id),
        back=url_for("collection.callback_campaign", campaign_id=campaign.id),
    )  # fmt: skip


@bp.post("/callbacks/<int:campaign_id>/history/<int:batch_id>/apply")
@require(Permission.ORGANISE_REPORTS)
def callbacks_history_apply(campaign_id: int, batch_id: int) -> Any:
    campaign = get_or_404(CallbackCampaign, campaign_id)
    here = url_for("collection.callbacks_history_preview", campaign_id=campaign.id, batch_id=batch_id)
    done = url_for("collection.callback_campaign", campaign_id=campaign.id)
    return _apply(_calls(campaign), CALLBACKS, batch_id, here, done)
