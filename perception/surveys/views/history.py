"""Importing past answers into a campaign from the pages: upload -> dry run (what would change) ->
apply. The same operation as the API and ``perception surveys import-responses``; the pages are
perception.web.history_pages', shared with the collection phase's history imports (weekly
reports, callbacks), which describe their imports with ``history_import`` from here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import abort, current_app, url_for
from flask_babel import gettext as _

from perception.core.authz import Permission, current_user, get_or_404, region_scope, require
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.core.i18n import localized
from perception.kpi.models import ImportBatch, ImportStatus
from perception.kpi.services.files import DEFAULT_MAX_BYTES, DEFAULT_MAX_EXCEL_ROWS
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions, stored_upload
from perception.surveys.forms import HistoryApplyForm, HistoryUploadForm
from perception.surveys.models import Campaign
from perception.surveys.services.history_import import KIND, import_responses
from perception.surveys.views import bp
from perception.web.history_pages import HistoryImport, apply_page, preview_page, upload_page


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


def dry_run_batch(batch_id: int, kind: str) -> ImportBatch:
    batch = orm().get(ImportBatch, batch_id)
    if batch is None or batch.kind != kind:
        abort(404)
    return batch


def history_import(kind: str, run: Callable[[ImportOptions, Any, str | None, Any], Any]) -> HistoryImport:
    """A history import of ``kind`` for the shared pages (perception.web.history_pages): options
    of the signed-in user, the dry run's upload kept in the instance folder, ImportBatch rows."""
    return HistoryImport(
        run=run,
        options=lambda dry_run: history_options(dry_run=dry_run),
        stored=stored_upload,
        batch=lambda batch_id: dry_run_batch(batch_id, kind),
        error=KpiImportError,
        upload_form=HistoryUploadForm,
        apply_form=HistoryApplyForm,
        dry_run_status=ImportStatus.DRY_RUN,
    )


def _responses(campaign: Campaign) -> HistoryImport:
    def run(options: ImportOptions, data: Any, filename: str | None, batch: Any) -> Any:
        return import_responses(orm(), campaign, options, org_timezone=current_clock().timezone, data=data,
                                filename=filename, batch=batch)  # fmt: skip

    return history_import(KIND, run)


@bp.route("/campaigns/<int:campaign_id>/history", methods=["GET", "POST"])
@require(Permission.MANAGE_SURVEYS)
def campaign_history(campaign_id: int) -> Any:
    campaign = get_or_404(Campaign, campaign_id)

    def preview(batch_id: int) -> str:
        return url_for("surveys.campaign_history_preview", campaign_id=campaign.id, batch_id=batch_id)

    return upload_page(
        _responses(campaign), title=_("Import past answers into %(name)s", name=localized(campaign)),
        columns_help="responses", back=url_for("surveys.campaign", campaign_id=campaign.id),
        preview=preview, campaign=campaign,
    )  # fmt: skip


@bp.get("/campaigns/<int:campaign_id>/history/<int:batch_id>")
@require(Permission.MANAGE_SURVEYS)
def campaign_history_preview(campaign_id: int, batch_id: int) -> Any:
    campaign = get_or_404(Campaign, campaign_id)
    return preview_page(
        _responses(campaign), batch_id,
        apply_url=url_for("surveys.campaign_history_apply", campaign_id=campaign.id, batch_id=batch_id),
        back=url_for("surveys.campaign", campaign_id=campaign.id),
    )  # fmt: skip


@bp.post("/campaigns/<int:campaign_id>/history/<int:batch_id>/apply")
@require(Permission.MANAGE_SURVEYS)
def campaign_history_apply(campaign_id: int, batch_id: int) -> Any:
    campaign = get_or_404(Campaign, campaign_id)
    here = url_for("surveys.campaign_history_preview", campaign_id=campaign.id, batch_id=batch_id)
    return apply_page(_responses(campaign), batch_id, here=here,
                      done=url_for("surveys.campaign", campaign_id=campaign.id))  # fmt: skip
