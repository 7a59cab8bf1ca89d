"""SLA and OLA pages. List rows of an agreement (holidays, make-up working days, indicators, promises,
escalation rules, reporting) are edited as one line each with ``|`` between the columns, so the form
works the same on a phone; a problem in a row is shown with its line number."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from perception.core.authz import Permission, can, get_or_404, require, scoped
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.core.transaction import atomic
from perception.setup.forms import SlaForm
from perception.setup.models.standards import Sla
from perception.setup.services import schema as setup_schema
from perception.setup.services.agreements import save_sla, sla_to_def_dict
from perception.setup.services.errors import SetupError
from perception.setup.services.sla import calendar_for_sla, escalation_deadlines, olas_for
from perception.setup.views import bp
from perception.setup.views.common import catalogue_choices, form_data, read, show_problems

ROWS: dict[str, tuple[str, ...]] = {
    "holidays": ("date", "name"),
    "workdays": ("date", "name"),
    "indicators": ("name_zh", "name_en", "standard", "comparator", "target", "unit"),
    "promises": ("description_zh", "description_en", "within_minutes", "channel"),
    "escalations": ("after_minutes", "notify_roles", "notify_emails", "description_zh", "description_en"),
    "reports": ("frequency", "recipients", "description_zh", "description_en"),
}
LIST_COLUMNS = {"notify_roles", "notify_emails", "recipients"}


def lines_to_rows(text: str | None, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        if keys == ROWS["holidays"] and "|" not in line:  # also the make-up working days
            first, _sep, rest = line.strip().partition(" ")
            parts = [first, rest]
        else:
            parts = [p.strip() for p in line.split("|")]
        rows.append({k: (parts[i] if i < len(parts) else "") for i, k in enumerate(keys)})
    return rows


def rows_to_lines(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> str:
    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, list):
            return ",".join(value)
        if isinstance(value, float):
            return f"{value:g}"
        return str(value)

    return "\n".join(" | ".join(cell(r.get(k)) for k in keys).rstrip(" |") for r in rows)


@bp.get("/slas")
@require(Permission.VIEW_SETUP)
def slas() -> Any:
    rows = orm().scalars(scoped(select(Sla), Sla).order_by(Sla.kind.desc(), Sla.code)).all()
    return render_template("setup/slas.html", rows=rows, can_manage=can(Permission.MANAGE_SETUP))


@bp.get("/slas/<int:sla_id>")
@require(Permission.VIEW_SETUP)
def sla_detail(sla_id: int) -> Any:
    sla = get_or_404(Sla, sla_id)
    doc = sla_to_def_dict(orm(), sla)
    try:
        calendar = calendar_for_sla(sla)
        start = current_clock().now()
        zone = ZoneInfo(calendar.tz)
        deadlines = [
            (
                rule,
                when.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone) if isinstance(when, datetime) else when,
            )
            for rule, when in escalation_deadlines(sla, start)
        ]
        calendar_text = calendar.to_text()
    except ValueError as exc:
        deadlines, calendar_text = [], str(exc)
    return render_template(
        "setup/sla_detail.html",
        sla=sla,
        doc=doc,
        olas=olas_for(orm(), sla.id),
        deadlines=deadlines,
        calendar_text=calendar_text,
        can_manage=can(Permission.MANAGE_SETUP),
    )


def _sla_form(sla: Sla | None) -> Any:
    form = SlaForm()
    catalogue_choices(form)
    if form.is_submitted():
        data = form_data(form)
        if sla is not None:
            data["code"] = sla.code
        for name, keys in ROWS.items():
            data[name] = lines_to_rows(data.get(name), keys)
            for row in data[name]:
                for key in LIST_COLUMNS & set(keys):
                    row[key] = [x.strip() for x in row[key].split(",") if x.strip()]
        try:
            with atomic():
                saved = save_sla(
                    orm(), read(setup_schema.read_sla, data, default_timezone=current_clock().timezone)
                )
        except SetupError as exc:
            show_problems(form, exc)
        else:
            flash(_("Agreement %(code)s saved.", code=data["code"]), "success")
            return redirect(url_for("setup.sla_detail", sla_id=saved.id if saved else 0))
    elif sla is not None:
        doc = sla_to_def_dict(orm(), sla)
        for name in form._fields:
            if name in ROWS:
                form[name].data = rows_to_lines(doc[name], ROWS[name])
            elif name in doc and name != "csrf_token":
                value = doc[name]
                form[name].data = (
                    value if isinstance(value, bool | list) else ("" if value is None else str(value))
                )
    else:
        form.covered_hours.data = form.covered_hours.data or "mon-fri 09:00-18:00"
        form.timezone.data = form.timezone.data or current_clock().timezone
    return render_template("setup/sla_form.html", form=form, sla=sla)


@bp.route("/slas/new", methods=["GET", "POST"])
@require(Permission.MANAGE_SETUP)
def sla_new() -> Any:
    return _sla_form(None)


@bp.route("/slas/<int:sla_id>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_SETUP)
def sla_edit(sla_id: int) -> Any:
    return _sla_form(get_or_404(Sla, sla_id))


__all__ = ["lines_to_rows", "rows_to_lines"]
