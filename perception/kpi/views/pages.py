"""KPI pages: overview, tickets, KPI values, KPI definitions and open escalations (all region-scoped)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from perception.core.authz import Permission, can, get_or_404, require, scoped
from perception.core.clock import current_clock
from perception.core.errors import UserError
from perception.core.extensions import orm
from perception.core.i18n import lang_code, localized
from perception.core.transaction import atomic
from perception.kpi.forms import DefinitionForm
from perception.kpi.models import (
    UNRESOLVED_STATUSES,
    Escalation,
    ImportBatch,
    KpiDefinition,
    KpiSource,
    Ticket,
    TicketStatus,
)
from perception.kpi.services.definitions import DefinitionSpec, save_definition
from perception.kpi.services.messages import KpiError
from perception.kpi.services.tickets import TicketQuery, find_tickets, ticket_status
from perception.kpi.services.values import KpiQuery, attainment_summary, count_values, kpi_values
from perception.kpi.views import bp
from perception.kpi.views.common import (
    date_arg,
    default_weeks,
    error_text,
    int_arg,
    regions,
    scope,
    services,
    tiers,
)
from perception.setup.models.standards import METRICS, ServiceStandard

PAGE = 50
HEADLINE = ("TK_RESPONSE_WITHIN", "TK_RESOLUTION_WITHIN", "TK_FCR", "TK_REOPEN")


@bp.get("/")
@require(Permission.VIEW_KPI)
def index() -> Any:
    start, end = default_weeks(current_clock().today(), 13)
    summary = attainment_summary(
        orm(), KpiQuery(start=start, end=end, region_ids=scope(), kpi_codes=HEADLINE, with_target_only=True)
    )
    tickets = orm().scalar(scoped(select(func.count(Ticket.id)), Ticket)) or 0
    open_tickets = (
        orm().scalar(
            scoped(select(func.count(Ticket.id)).where(Ticket.status.in_(UNRESOLVED_STATUSES)), Ticket)
        )
        or 0
    )
    escalations = (
        orm().scalar(
            scoped(select(func.count(Escalation.id)).where(Escalation.recovered_at.is_(None)), Escalation)
        )
        or 0
    )
    batches = orm().scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(5)).all()
    return render_template(
        "kpi/index.html",
        summary=summary,
        start=start,
        end=end,
        counts={"tickets": tickets, "open": open_tickets, "escalations": escalations},
        batches=batches if can(Permission.MANAGE_KPI) else [],
        can_manage=can(Permission.MANAGE_KPI),
    )


@bp.get("/tickets")
@require(Permission.VIEW_KPI)
def tickets() -> Any:
    try:
        opened_from, opened_to = date_arg("from", None), date_arg("to", None)
    except UserError as exc:
        flash(error_text(exc), "error")
        opened_from = opened_to = None
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    found = find_tickets(
        orm(),
        TicketQuery(
            region_ids=scope(),
            region_id=int_arg("region"),
            service_id=int_arg("service"),
            status=ticket_status(request.args.get("status")),
            id_prefix=request.args.get("q", ""),
            opened_from=opened_from,
            opened_to=opened_to,
            timezone=current_clock().timezone,
        ),
        limit=PAGE,
        offset=(page - 1) * PAGE,
    )
    return render_template(
        "kpi/tickets.html",
        rows=found.tickets,
        page=page,
        pages=max((found.total + PAGE - 1) // PAGE, 1),
        total=found.total,
        regions=regions(),
        services=services(),
        statuses=tuple(TicketStatus),
        names=_names(),
        filters={k: request.args.get(k, "") for k in ("region", "service", "status", "q", "from", "to")},
    )


def _names() -> dict[str, dict[int, str]]:
    return {
        "region": {r.id: localized(r) for r in regions()},
        "service": {s.id: localized(s) for s in services()},
        "tier": {t.id: localized(t) for t in tiers()},
    }


@bp.get("/tickets/<int:ticket_id>")
@require(Permission.VIEW_KPI)
def ticket(ticket_id: int) -> Any:
    item = get_or_404(Ticket, ticket_id)
    fired = (
        orm()
        .scalars(select(Escalation).where(Escalation.ticket_id == item.id).order_by(Escalation.fired_at))
        .all()
    )
    return render_template("kpi/ticket.html", ticket=item, escalations=fired, names=_names())


@bp.get("/values")
@require(Permission.VIEW_KPI)
def values() -> Any:
    default_start, default_end = default_weeks(current_clock().today(), 13)
    try:
        start, end = date_arg("from", default_start), date_arg("to", default_end)
    except UserError as exc:
        flash(error_text(exc), "error")
        start, end = default_start, default_end
    code = request.args.get("kpi", "").strip()
    query = KpiQuery(
        start=start,
        end=end,
        granularity=request.args.get("grain", "week")
        if request.args.get("grain") in ("week", "month")
        else "week",
        region_ids=scope(),
        region_id=int_arg("region"),
        service_id=int_arg("service"),
        tier_id=int_arg("tier"),
        kpi_codes=(code,) if code else (),
    )
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    total = count_values(orm(), query)
    rows = kpi_values(orm(), query, limit=PAGE, offset=(page - 1) * PAGE)
    definitions = orm().scalars(select(KpiDefinition).order_by(KpiDefinition.code)).all()
    return render_template(
        "kpi/values.html",
        rows=rows,
        page=page,
        pages=max((total + PAGE - 1) // PAGE, 1),
        total=total,
        definitions=definitions,
        regions=regions(),
        services=services(),
        tiers=tiers(),
        filters={k: request.args.get(k, "") for k in ("kpi", "region", "service", "tier", "grain")}
        | {"from": start.isoformat(), "to": end.isoformat()},
    )


@bp.get("/definitions")
@require(Permission.VIEW_KPI)
def definitions() -> Any:
    rows = (
        orm().scalars(select(KpiDefinition).order_by(KpiDefinition.source.desc(), KpiDefinition.code)).all()
    )
    return render_template("kpi/definitions.html", rows=rows, can_manage=can(Permission.MANAGE_KPI))


def _definition_choices(form: DefinitionForm) -> None:
    form.metric.choices = [SelectChoice("", "—")] + [SelectChoice(m, m) for m in METRICS]
    standards = orm().scalars(select(ServiceStandard).order_by(ServiceStandard.code))
    form.standard_id.choices = [SelectChoice("", "—")] + [SelectChoice(str(s.id), s.code) for s in standards]


@bp.route("/definitions/new", methods=["GET", "POST"])
@bp.route("/definitions/<int:definition_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_KPI)
def definition_form(definition_id: int | None = None) -> Any:
    current = orm().get(KpiDefinition, definition_id) if definition_id else None
    if definition_id and current is None:
        abort(404)
    if current is not None and current.source == KpiSource.TICKETS:
        flash(_("Built-in KPIs computed from tickets cannot be changed."), "warning")
        return redirect(url_for("kpi.definitions"))
    form = DefinitionForm(obj=current)
    _definition_choices(form)
    if request.method == "GET" and current is not None:
        form.standard_id.data = str(current.standard_id or "")
        form.metric.data = current.metric or ""
    if form.validate_on_submit():
        spec = DefinitionSpec(
            code=form.code.data or "",
            name_zh=form.name_zh.data or "",
            name_en=form.name_en.data or "",
            unit=form.unit.data or "",
            direction=form.direction.data or "higher",
            metric=form.metric.data or None,
            standard_id=int(form.standard_id.data) if form.standard_id.data else None,
            default_target=float(form.default_target.data) if form.default_target.data is not None else None,
            description_zh=form.description_zh.data or None,
            description_en=form.description_en.data or None,
        )
        try:
            with atomic():
                saved = save_definition(orm(), spec, current)
        except KpiError as exc:
            for problem in exc.problems:
                getattr(form, problem.form_field, form.code).errors.append(problem.text(lang_code()))
        else:
            flash(_("KPI %(code)s saved.", code=saved.code), "success")
            return redirect(url_for("kpi.definitions"))
    return render_template("kpi/definition_form.html", form=form, current=current)


@bp.get("/escalations")
@require(Permission.VIEW_KPI)
def escalations() -> Any:
    show_all = request.args.get("all") == "1"
    base: Any = select(Escalation, Ticket).join(Ticket, Ticket.id == Escalation.ticket_id)
    stmt = scoped(base, Escalation)
    if not show_all:
        stmt = stmt.where(Escalation.recovered_at.is_(None))
    rows = orm().execute(stmt.order_by(Escalation.fired_at.desc()).limit(500)).all()
    return render_template("kpi/escalations.html", rows=rows, show_all=show_all, names=_names())
