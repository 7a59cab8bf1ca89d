"""Importing past survey answers through the API: a JSON array of rows (one object per response,
keys as the file's columns) or an uploaded CSV/XLSX file, into one campaign. ``?dry_run=1`` only
checks and counts. All-or-nothing: any problem answers 422 with every problem (row, column, value)
and stores nothing; re-sending the same rows changes nothing (idempotent on ``source_id``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import current_app, g, jsonify, request

from perception.api import bp
from perception.api.errors import json_body
from perception.api.openapi import document, json_content
from perception.api.schemas import UPLOAD, ImportResult
from perception.core.authz import Permission, get_or_404, region_scope, require
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.core.uploads import upload_on_disk
from perception.kpi.services.files import DEFAULT_MAX_BYTES
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions
from perception.surveys.api_models import ResponsesImport
from perception.surveys.models import Campaign
from perception.surveys.services.history_import import import_responses

ANSWERS = {
    "200": {"description": "Dry run: what the import would do", "content": json_content(ImportResult)},
    "201": {"description": "Imported", "content": json_content(ImportResult)},
}


@contextmanager
def upload_or_items(key: str, options: ImportOptions) -> Iterator[tuple[Path | None, Any, str | None]]:
    """(file path, JSON rows, filename): a multipart ``file`` (copied to a temporary file in
    blocks and refused over ``options.max_bytes``: the import streams it, the upload is never
    held whole in memory), a JSON body ``{key: [...]}`` or ``[...]``."""
    upload = request.files.get("file")
    if upload is None:
        body = json_body()
        yield None, body.get(key) if isinstance(body, dict) else body, None
        return
    with upload_on_disk(upload.stream, options.max_bytes, KpiImportError) as path:
        yield path, None, upload.filename or None


def history_options() -> ImportOptions:
    cfg = current_app.config
    return ImportOptions(
        dry_run=request.args.get("dry_run", "").lower() in ("1", "true", "yes"),
        user_id=g.user.id,
        allowed_regions=region_scope(),
        max_bytes=int(cfg.get("KPI_IMPORT_MAX_BYTES") or DEFAULT_MAX_BYTES),
        max_excel_rows=int(cfg.get("KPI_IMPORT_MAX_EXCEL_ROWS") or 200_000),
    )


@bp.post("/campaigns/<int:campaign_id>/responses/import")
@document(
    "/campaigns/{campaign_id}/responses/import",
    "post",
    summary="Import past responses into a campaign (all-or-nothing; idempotent on source_id)",
    tag="surveys",
    parameters=[
        {"name": "campaign_id", "in": "path", "required": True, "schema": {"type": "integer"}},
        {"name": "dry_run", "in": "query", "schema": {"type": "boolean"}},
    ],
    request=ResponsesImport,
    request_content=UPLOAD,
    responses=ANSWERS,
)
@require(Permission.MANAGE_SURVEYS)
def campaign_responses_import(campaign_id: int) -> Any:
    campaign = get_or_404(Campaign, campaign_id)
    options = history_options()
    with upload_or_items("responses", options) as (data, items, filename):
        result = import_responses(
            orm(), campaign, options, org_timezone=current_clock().timezone, data=data, items=items,
            filename=filename,
        )  # fmt: skip
    return jsonify(result.as_json()), 200 if options.dry_run else 201
