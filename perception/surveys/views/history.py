"""Importing past answers into a campaign from the pages: upload -> dry run (what would change) ->
apply. The same operation as the API and ``perception surveys import-responses``; the preview and
upload pages are shared with the collection phase's history imports (weekly reports, callbacks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from perception.core.authz import Permission, current_user, get_or_404, region_scope, require
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.core.i18n import localized
from perception.core.transaction import atomic
from perception.kpi.models import ImportBatch, ImportStatus
from perception.kpi.services.files import DEFAULT_MAX_BYTES, DEFAULT_MAX_EXCEL_ROWS
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions, stored_upload
from perception.surveys.forms import HistoryApplyForm, HistoryUploadForm
from perception.surveys.models import Campaign
from perception.surveys.services.history_import import KIND, import_responses
from perception.surveys.views import bp


def history_options(*, dry_run: bool) -> ImportOptions:
    """Import options of a history page: the user's regions, the dry-run upload kept in the instance."""
    cfg = current_app.config
    user = current_user()
    upload_limit = cfg.get("MAX_CONTENT_LENGTH") or DEFAULT_MAX_BYTES
    return ImportOptions(
        dry_run=dry_run,
        user_id=user.id if user is not None else None,
        allowed_regions=region_scope(),
        store_dir=Path(current_app.instance_path) / "history_imports",
        max_bytes=int(cfg.get("KPI_IMPORT_MAX_BYTES") or min(upload_limit, DEFAULT_MAX_BYTES)),
        max_excel_rows=int(cfg.get("KPI_IMPORT_MAX_EXCEL_ROWS") or DEFAULT_MAX_EXCEL_ROWS),
    )  # fmt: skip


def problem_lines(exc: KpiImportError) -> list[str]:
    from perception.core.i18n import lang_code

    lines = [p.located(lang_code()) for p in exc.problems]
    if exc.total > len(exc.problems):
        lines.append(_("… and %(n)s more problems.", n=exc.total - len(exc.problems)))
    return lines


def dry_run_batch(batch_id: int, kind: str) -> ImportBatch:
    batch = orm().get(ImportBatch, batch_id)
    if batch is None or batch.kind != kind:
        abort(404)
    return batch


def _run(
    campaign: Campaign, options: ImportOptions, data: bytes, filename: str | None, batch: Any = None
) -> Any:
    return import_responses(
        orm(),
        campaign,
        options,
        org_timezone=current_clock().timezone,
        data=data,
        filename=filename,
        batch=batch,
    )


@bp.route("/campaigns/<int:campaign_id>/history", methods=["GET", "POST"])
@require(Permission.MANAGE_SURVEYS)
def campaign_history(campaign_id: int) -> Any:
    campaign = get_or_404(Campaign, campaign_id)
    form = HistoryUploadForm()
    problems: list[str] = []
    if form.validate_on_submit():
        upload = form.upload.data
        try:
            with atomic():
                result = _run(campaign, history_options(dry_run=True), upload.read(), upload.filename or None)
        except KpiImportError as exc:
            problems = problem_lines(exc)
        else:
            return redirect(url_for("surveys.campaign_history_preview", campaign_id=campaign.id,
                                    batch_id=result.batch_id))  # fmt: skip
    return render_template(
        "surveys/history_import.html", form=form, problems=problems, campaign=campaign,
        title=_("Import past answers into %(name)s", name=localized(campaign)),
        columns_help="responses", back=url_for("surveys.campaign", campaign_id=campaign.id),
    )  # fmt: skip


@bp.get("/campaigns/<int:campaign_id>/history/<int:batch_id>")
@require(Permission.MANAGE_SURVEYS)
def campaign_history_preview(campaign_id: int, batch_id: int) -> Any:
    campaign = get_or_404(Campaign, campaign_id)
    batch = dry_run_batch(batch_id, KIND)
    return render_template(
        "surveys/history_preview.html", batch=batch, form=HistoryApplyForm(),
        apply_url=url_for("surveys.campaign_history_apply", campaign_id=campaign.id, batch_id=batch.id),
        back=url_for("surveys.campaign", campaign_id=campaign.id),
    )  # fmt: skip


@bp.post("/campaigns/<int:campaign_id>/history/<int:batch_id>/apply")
@require(Permission.MANAGE_SURVEYS)
def campaign_history_apply(campaign_id: int, batch_id: int) -> Any:
    campaign = get_or_404(Campaign, campaign_id)
    batch = dry_run_batch(batch_id, KIND)
    here = url_for("surveys.campaign_history_preview", campaign_id=campaign.id, batch_id=batch.id)
    if not HistoryApplyForm().validate_on_submit() or batch.status != ImportStatus.DRY_RUN:
        flash(_("The import could not be applied; start again."), "error")
        return redirect(here)
    options = history_options(dry_run=False)
    try:
        with atomic():
            result = _run(campaign, options, stored_upload(options, batch), batch.filename, batch)
    except KpiImportError as exc:
        for line in problem_lines(exc):
            flash(line, "error")
        return redirect(here)
    flash(
        _("Imported: %(new)s new, %(changed)s changed, %(same)s unchanged.", new=result.rows_new,
          changed=result.rows_changed, same=result.rows_unchanged),
        "success",
    )  # fmt: skip
    return redirect(url_for("surveys.campaign", campaign_id=campaign.id))
