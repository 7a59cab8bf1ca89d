"""Importing past weekly reports (organiser) and past callbacks into a callback campaign from the pages:
upload -> dry run -> preview -> apply, through the pages every history import shares
(perception.web.history_pages) and the survey history import's options."""

from __future__ import annotations

from typing import Any

from flask import url_for
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
from perception.kpi.services.ticket_import import ImportOptions, ImportResult
from perception.surveys.views.history import history_import
from perception.web.history_pages import HistoryImport, apply_page, preview_page, upload_page


def _reports_import() -> HistoryImport:
    def run(options: ImportOptions, data: Any, filename: str | None, batch: Any) -> ImportResult:
        return import_reports(orm(), options, data=data, filename=filename, batch=batch)

    return history_import(REPORTS, run)


@bp.route("/reports/history", methods=["GET", "POST"])
@require(Permission.ORGANISE_REPORTS)
def reports_history() -> Any:
    def preview(batch_id: int) -> str:
        return url_for("collection.reports_history_preview", batch_id=batch_id)

    return upload_page(_reports_import(), title=_("Import past weekly reports"), columns_help="reports",
                       back=url_for("collection.board"), preview=preview)  # fmt: skip


@bp.get("/reports/history/<int:batch_id>")
@require(Permission.ORGANISE_REPORTS)
def reports_history_preview(batch_id: int) -> Any:
    return preview_page(_reports_import(), batch_id,
                        apply_url=url_for("collection.reports_history_apply", batch_id=batch_id),
                        back=url_for("collection.reports_history"))  # fmt: skip


@bp.post("/reports/history/<int:batch_id>/apply")
@require(Permission.ORGANISE_REPORTS)
def reports_history_apply(batch_id: int) -> Any:
    here = url_for("collection.reports_history_preview", batch_id=batch_id)
    return apply_page(_reports_import(), batch_id, here=here, done=url_for("collection.board"))


def _calls_import(campaign: CallbackCampaign) -> HistoryImport:
    def run(options: ImportOptions, data: Any, filename: str | None, batch: Any) -> ImportResult:
        return import_callbacks(orm(), campaign, options, org_timezone=current_clock().timezone, data=data,
                                filename=filename, batch=batch)  # fmt: skip

    return history_import(CALLBACKS, run)


@bp.route("/callbacks/<int:campaign_id>/history", methods=["GET", "POST"])
@require(Permission.ORGANISE_REPORTS)
def callbacks_history(campaign_id: int) -> Any:
    campaign = get_or_404(CallbackCampaign, campaign_id)

    def preview(batch_id: int) -> str:
        return url_for("collection.callbacks_history_preview", campaign_id=campaign.id, batch_id=batch_id)

    title = _("Import past callbacks into %(name)s", name=campaign.name)
    return upload_page(_calls_import(campaign), title=title, columns_help="callbacks",
                       back=url_for("collection.callback_campaign", campaign_id=campaign.id),
                       preview=preview)  # fmt: skip


@bp.get("/callbacks/<int:campaign_id>/history/<int:batch_id>")
@require(Permission.ORGANISE_REPORTS)
def callbacks_history_preview(campaign_id: int, batch_id: int) -> Any:
    campaign = get_or_404(CallbackCampaign, campaign_id)
    return preview_page(
        _calls_import(campaign), batch_id,
        apply_url=url_for("collection.callbacks_history_apply", campaign_id=campaign.id, batch_id=batch_id),
        back=url_for("collection.callback_campaign", campaign_id=campaign.id),
    )  # fmt: skip


@bp.post("/callbacks/<int:campaign_id>/history/<int:batch_id>/apply")
@require(Permission.ORGANISE_REPORTS)
def callbacks_history_apply(campaign_id: int, batch_id: int) -> Any:
    campaign = get_or_404(CallbackCampaign, campaign_id)
    here = url_for("collection.callbacks_history_preview", campaign_id=campaign.id, batch_id=batch_id)
    done = url_for("collection.callback_campaign", campaign_id=campaign.id)
    return apply_page(_calls_import(campaign), batch_id, here=here, done=done)
