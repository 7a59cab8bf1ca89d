"""Importing past weekly reports and past phone callbacks through the API: a JSON array of rows or
an uploaded CSV/XLSX file; ``?dry_run=1`` only checks and counts; all-or-nothing (422 with every
problem); re-sending the same rows changes nothing."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from perception.api import bp
from perception.api.openapi import document
from perception.api.schemas import UPLOAD
from perception.collection.api_models import CallbacksImport, ReportsImport
from perception.collection.models.fieldwork import CallbackCampaign
from perception.collection.services.callback_history import import_callbacks
from perception.collection.services.report_history import import_reports
from perception.core.authz import Permission, get_or_404, require
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.surveys.api_history import ANSWERS, history_options, upload_or_items

DRY = {"name": "dry_run", "in": "query", "schema": {"type": "boolean"}}


@bp.post("/collection/reports/import")
@document(
    "/collection/reports/import",
    "post",
    summary="Import past weekly reports with their entries and submission times (organiser)",
    tag="collection",
    parameters=[DRY],
    request=ReportsImport,
    request_content=UPLOAD,
    responses=ANSWERS,
)
@require(Permission.ORGANISE_REPORTS)
def collection_reports_import() -> Any:
    options = history_options()
    with upload_or_items("rows", options) as (data, items, filename):
        result = import_reports(orm(), options, data=data, items=items, filename=filename)
    return jsonify(result.as_json()), 200 if options.dry_run else 201


@bp.post("/collection/callbacks/<int:campaign_id>/import")
@document(
    "/collection/callbacks/{campaign_id}/import",
    "post",
    summary="Import past phone callbacks with their outcomes into a callback campaign",
    tag="collection",
    parameters=[{"name": "campaign_id", "in": "path", "required": True, "schema": {"type": "integer"}}, DRY],
    request=CallbacksImport,
    request_content=UPLOAD,
    responses=ANSWERS,
)
@require(Permission.ORGANISE_REPORTS)
def collection_callbacks_import(campaign_id: int) -> Any:
    campaign = get_or_404(CallbackCampaign, campaign_id)
    options = history_options()
    with upload_or_items("calls", options) as (data, items, filename):
        result = import_callbacks(
            orm(),
            campaign,
            options,
            org_timezone=current_clock().timezone,
            data=data,
            items=items,
            filename=filename,
        )
    return jsonify(result.as_json()), 200 if options.dry_run else 201
