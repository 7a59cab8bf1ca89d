"""Configuration as code: download the whole setup as YAML/JSON, and import a document
(all-or-nothing, with every problem named by its path; "only check" undoes what it tried)."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, g, render_template, request
from flask_babel import gettext as _

from perception.core.authz import Permission, require
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.core.i18n import is_zh
from perception.core.transaction import writes
from perception.setup.forms import ImportForm
from perception.setup.services.config import import_document, load_text
from perception.setup.services.config_export import dump_text, export_with_audit
from perception.setup.services.errors import SetupError
from perception.setup.views import bp


@bp.get("/config")
@require(Permission.MANAGE_SETUP)
def config() -> Any:
    return render_template("setup/config.html", form=ImportForm(), problems=None, result=None)


@bp.get("/config/export")
@require(Permission.MANAGE_SETUP)
@writes  # records the export's audit row
def config_export() -> Any:
    fmt = "json" if request.args.get("format") == "json" else "yaml"
    text = dump_text(export_with_audit(orm()), fmt)
    mime = "application/json" if fmt == "json" else "application/x-yaml"
    name = f"perception-setup-{current_clock().today().isoformat()}.{fmt}"
    return Response(text, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/config/import")
@require(Permission.MANAGE_SETUP)
def config_import() -> Any:
    form = ImportForm()
    upload = form.document.data
    raw: str | bytes = upload.read() if upload else (form.text.data or "")
    problems, result = None, None
    try:
        if not raw or not (raw.strip() if isinstance(raw, str) else raw.strip()):
            raise SetupError.one(
                "$", "请上传或粘贴设置文档", "Upload or paste a setup document.", code="required"
            )
        result = import_document(
            orm(),
            load_text(raw),
            g.user,
            dry_run=bool(form.dry_run.data),
            default_timezone=current_clock().timezone,
        )
    except SetupError as exc:
        # Nothing was imported (the import undoes its own savepoint) and the 422 rolls back the rest.
        zh = is_zh()
        problems = [(p.field, p.text(zh)) for p in exc.problems]
    else:
        if result.dry_run:
            flash(
                _("The document is valid: importing it would make %(n)s changes.", n=result.changes),
                "success",
            )
        else:
            flash(_("Imported: %(n)s changes.", n=result.changes), "success")
    status = 422 if problems else 200
    return render_template("setup/config.html", form=form, problems=problems, result=result), status
