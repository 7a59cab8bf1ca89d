"""Service-standard pages: list (with the version in force on a chosen date), the form with the
five-principle check, the version history and the joint-confirmation actions."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from wtforms.fields.choices import SelectChoice

from perception.core.authz import Permission, can, get_or_404, require, scoped
from perception.core.clock import current_clock
from perception.core.errors import UserError
from perception.core.extensions import orm
from perception.core.i18n import is_zh
from perception.core.periods import parse_day
from perception.core.transaction import atomic
from perception.setup import labels
from perception.setup.forms import ActionForm, StandardForm
from perception.setup.models.catalog import Service
from perception.setup.models.standards import (
    DIMENSIONS,
    MEASURED_BY,
    METRICS,
    SERVQUAL_DIMENSIONS,
    ServiceStandard,
    StandardVersion,
    VersionStatus,
)
from perception.setup.services import confirm as setup_confirm
from perception.setup.services import schema as setup_schema
from perception.setup.services.customer_scope import event_visible, other_customers_people, viewer_customers
from perception.setup.services.defs import CONTENT_FIELDS
from perception.setup.services.errors import NotAllowed, SetupError
from perception.setup.services.refs import usernames_of
from perception.setup.services.standard_io import save_standard
from perception.setup.services.standards import (
    check_version,
    measured_history,
    proposed_history,
    spec_from_content,
    standard_in_force,
    versions_in_force,
)
from perception.setup.views import bp
from perception.setup.views.common import catalogue_choices, form_data, read, show_problems
from scoring.principles import check_principles

IDENTITY = ("code", "service", "tier", "customer", "category", "experience_standard", "active")


def _on_date() -> date:
    """The day the list shows the versions in force on: ?on=, or the organisation's today when
    it is missing or not a date."""
    raw = request.args.get("on", "")
    if raw:
        try:
            return parse_day(raw, "on")
        except UserError:
            pass
    return current_clock().today()


@bp.get("/standards")
@require(Permission.VIEW_SETUP)
def standards() -> Any:
    on = _on_date()
    stmt = scoped(select(ServiceStandard), ServiceStandard).join(
        Service, Service.id == ServiceStandard.service_id
    )
    service = request.args.get("service", "")
    if service:
        stmt = stmt.where(Service.code == service)
    found = (
        orm()
        .scalars(
            stmt.options(
                selectinload(ServiceStandard.versions),
                joinedload(ServiceStandard.service),
                joinedload(ServiceStandard.customer),
                joinedload(ServiceStandard.tier),
            ).order_by(ServiceStandard.code)
        )
        .unique()
        .all()
    )
    in_force = versions_in_force(orm(), (s.id for s in found), on)
    rows = []
    for s in found:
        latest = s.versions[-1] if s.versions else None
        rows.append((s, latest, in_force.get(s.id)))
    status = request.args.get("status", "")
    if status:
        rows = [r for r in rows if r[1] is not None and r[1].status == status]
    services = orm().scalars(select(Service).order_by(Service.code)).all()
    return render_template(
        "setup/standards.html",
        rows=rows,
        on=on,
        services=services,
        filters={"service": service, "status": status},
        can_manage=can(Permission.MANAGE_SETUP),
    )


def _fill(form: StandardForm) -> None:
    catalogue_choices(form)
    form.metric.choices = [SelectChoice("", "—")] + [
        SelectChoice(m, f"{labels.label(labels.METRIC_LABELS, m)} ({m})") for m in METRICS
    ]
    form.dimension.choices = [SelectChoice("", "—")] + [
        SelectChoice(d, labels.label(labels.DIMENSION_LABELS, d)) for d in DIMENSIONS + SERVQUAL_DIMENSIONS
    ]
    form.measured_by.choices = [SelectChoice("", "—")] + [
        SelectChoice(m, labels.label(labels.MEANS_LABELS, m)) for m in MEASURED_BY
    ]


def _standard_form(standard: ServiceStandard | None) -> Any:
    form = StandardForm()
    _fill(form)
    report = None
    if form.is_submitted():
        data = form_data(form)
        if standard is not None:
            data["code"] = standard.code
        entry = {k: data[k] for k in IDENTITY} | {
            "versions": [{k: data.get(k) for k in (*CONTENT_FIELDS, "requested_effective_from")}]
        }
        try:
            d = read(setup_schema.read_standard, entry, with_state=False)
            latest = standard.versions[-1] if standard and standard.versions else None
            need_ok = bool(
                latest and latest.need_confirmed_at and latest.customer_need == d.versions[0].customer_need
            )
            # The rule in the form, replayed on the history it speaks of (issue 14), not the stored one.
            report = check_principles(
                spec_from_content(d.code, d.versions[0], need_ok), proposed_history(orm(), d)
            )
            if request.form.get("action") != "check":
                with atomic():
                    saved = save_standard(orm(), d, g.user)
                flash(_("Standard %(code)s saved as a draft.", code=d.code), "success")
                return redirect(url_for("setup.standard_detail", standard_id=saved.id if saved else 0))
        except SetupError as exc:
            show_problems(form, exc)
    elif standard is not None:
        _prefill(form, standard)
    return render_template(
        "setup/standard_form.html", form=form, standard=standard, report=report, zh=is_zh()
    )


def _prefill(form: StandardForm, standard: ServiceStandard) -> None:
    form.code.data = standard.code
    form.service.data = standard.service.code
    form.tier.data = standard.tier.code if standard.tier else ""
    form.customer.data = standard.customer.code if standard.customer else ""
    form.category.data = standard.category
    target = standard.experience_standard
    form.experience_standard.data = target.code if target else ""
    form.active.data = standard.active
    latest = standard.versions[-1] if standard.versions else None
    if latest is not None:
        for name in (*CONTENT_FIELDS, "requested_effective_from"):
            value = getattr(latest, name)
            form[name].data = (
                "" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))
            )


@bp.route("/standards/new", methods=["GET", "POST"])
@require(Permission.MANAGE_SETUP)
def standard_new() -> Any:
    return _standard_form(None)


@bp.route("/standards/<int:standard_id>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_SETUP)
def standard_edit(standard_id: int) -> Any:
    return _standard_form(get_or_404(ServiceStandard, standard_id))


@bp.get("/standards/<int:standard_id>")
@require(Permission.VIEW_SETUP)
def standard_detail(standard_id: int) -> Any:
    standard = get_or_404(ServiceStandard, standard_id)
    latest = standard.versions[-1] if standard.versions else None
    report = check_version(latest, measured_history(orm(), latest)) if latest is not None else None
    user = g.user
    side = setup_confirm.side_of(user)
    bound = setup_confirm.bound_customers(orm(), standard)
    confirmed = setup_confirm.confirmed_customers(latest) if latest is not None else set()
    user_ids = [uid for v in standard.versions for uid in _user_ids(v)]
    names = usernames_of(orm(), user_ids)
    trail = [(v, e) for v in reversed(standard.versions) for e in reversed(v.events)]
    customers = viewer_customers(orm(), user)
    if customers is not None:  # never who confirmed for a customer outside the viewer's scope (issue 18)
        outsiders = other_customers_people(orm(), user_ids, customers)
        names = {i: (_("another customer") if i in outsiders else n) for i, n in names.items()}
        trail = [(v, e) for v, e in trail if event_visible(e, customers, outsiders)]
    return render_template(
        "setup/standard_detail.html",
        standard=standard,
        latest=latest,
        report=report,
        in_force=standard_in_force(orm(), standard.id, current_clock().today()),
        side=side,
        may_act=side == "provider" or (side == "customer" and user.customer_id in bound),
        bound=bound,
        confirmed=confirmed,
        unproven=latest is not None and setup_confirm.accepted_without_history(latest),
        unproven_note=setup_confirm.UNPROVEN_NOTE,
        names=names,
        trail=trail,
        can_manage=can(Permission.MANAGE_SETUP),
        action_form=ActionForm(),
        zh=is_zh(),
    )


def _user_ids(v: StandardVersion) -> list[int]:
    ids = [v.provider_confirmed_by_id, v.customer_confirmed_by_id, v.need_confirmed_by_id]
    ids += [e.user_id for e in v.events]
    return [i for i in ids if i is not None]


def _ticked(value: str | None) -> bool:
    """A ticked checkbox (WTForms sends "y"; other clients "on", "true", "1")."""
    return (value or "").strip().lower() in ("y", "yes", "on", "true", "1")


def _base_url() -> str:
    """PUBLIC_BASE_URL: the links in the mails to the customers' representatives."""
    return str(current_app.config["PUBLIC_BASE_URL"])


@bp.post("/standards/<int:standard_id>/versions/<int:version_id>/<action>")
@require(Permission.MANAGE_SETUP, Permission.CONFIRM_STANDARD_PROVIDER, Permission.CONFIRM_STANDARD_CUSTOMER)
def standard_action(standard_id: int, version_id: int, action: str) -> Any:
    standard = get_or_404(ServiceStandard, standard_id)
    version = next((v for v in standard.versions if v.id == version_id), None)
    if version is None or action not in setup_confirm.STEPS:
        abort(404)
    if action == "propose" and not can(Permission.MANAGE_SETUP):
        abort(403)
    comment = (request.form.get("comment") or "").strip()
    try:
        # The refusal is shown after a redirect, which commits: the savepoint undoes the step's writes.
        with atomic():
            setup_confirm.take_step(
                orm(), action, version, g.user, comment, today=current_clock().today(), base_url=_base_url(),
                accept_without_history=_ticked(request.form.get("accept_without_history")),
            )  # fmt: skip
    except NotAllowed:
        raise  # the 403 page with the reason
    except SetupError as exc:
        for problem in exc.problems:
            flash(problem.text(is_zh()), "error")
        return redirect(url_for("setup.standard_detail", standard_id=standard.id))
    if version.status == VersionStatus.CONFIRMED:
        flash(_("Both sides have confirmed: version %(n)s is in force.", n=version.version), "success")
    else:
        flash(_("Recorded."), "success")
    return redirect(url_for("setup.standard_detail", standard_id=standard.id))
