"""Follow-up tasks: the list for the user's regions, one task with its response and outcome, and the
routing rules that say who owns the tasks of a region or a service."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from perception.core.authz import Permission, can, deny, get_or_404, region_scope, require
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.core.i18n import is_zh, lang_code, localized
from perception.core.models.auth import User
from perception.core.models.org import Contact, CustomerOrg, Region
from perception.core.transaction import atomic
from perception.setup.models.catalog import Service
from perception.surveys.forms import ActionForm, FollowUpForm, FollowUpRouteForm
from perception.surveys.labels import FOLLOWUP_STATUS_LABELS
from perception.surveys.models import FollowUpTask
from perception.surveys.services import followup, followup_routes, followup_routing
from perception.surveys.services.definitions import questionnaire_of
from perception.surveys.services.errors import SurveyError
from perception.surveys.views import bp


@bp.get("/followups")
@require(Permission.VIEW_COLLECTION, Permission.VIEW_SURVEYS)
def followups() -> Any:
    status = request.args.get("status") or None
    rows = followup.followups(orm(), g.user, status=status)
    regions = {
        r.id: r for r in orm().scalars(select(Region).where(Region.id.in_({t.region_id for t in rows})))
    }
    customers = {
        c.id: c
        for c in orm().scalars(
            select(CustomerOrg).where(CustomerOrg.id.in_({t.customer_id for t in rows if t.customer_id}))
        )
    }
    contact_ids = {t.contact_id for t in rows if t.contact_id}
    contacts = (
        {c.id: c for c in orm().scalars(select(Contact).where(Contact.id.in_(contact_ids)))}
        if contact_ids
        else {}
    )
    owner_ids = {t.assignee_id for t in rows if t.assignee_id}
    owners = {u.id: u for u in orm().scalars(select(User).where(User.id.in_(owner_ids)))} if owner_ids else {}
    return render_template(
        "surveys/followups.html", tasks=rows, status=status, regions=regions, customers=customers,
        statuses=FOLLOWUP_STATUS_LABELS, owners=owners, contacts=contacts, today=current_clock().today(),
        is_overdue=followup_routing.is_overdue,
    )  # fmt: skip


@bp.route("/followups/<int:task_id>", methods=["GET", "POST"])
@require(Permission.VIEW_COLLECTION, Permission.VIEW_SURVEYS)
def followup_task(task_id: int) -> Any:
    task = get_or_404(FollowUpTask, task_id)
    form = FollowUpForm(obj=task)
    form.status.choices = [SelectChoice(k, str(v)) for k, v in FOLLOWUP_STATUS_LABELS.items()]
    editable = can(Permission.MANAGE_FOLLOWUPS)
    if request.method == "POST":
        if not editable:
            deny("missing permission manage_followups", object_type="FollowUpTask", object_id=task.id)
        if form.validate_on_submit():
            try:
                with atomic():
                    followup.update_followup(
                        orm(), task, status=form.status.data or "", outcome=form.outcome.data,
                        assignee_id=g.user.id, now=current_clock().now(),
                    )  # fmt: skip
            except SurveyError as exc:
                for problem in exc.problems:
                    target = form._fields.get(problem.form_field, form.status)
                    target.errors = [*target.errors, problem.text(is_zh())]  # type: ignore[assignment]
            else:
                flash(_("Follow-up task saved."), "success")
                return redirect(url_for("surveys.followups"))
    response = task.response
    questionnaire = questionnaire_of(response.version)
    contact = orm().get(Contact, task.contact_id) if task.contact_id else None
    customer = orm().get(CustomerOrg, task.customer_id) if task.customer_id else None
    return render_template(
        "surveys/followup.html", task=task, form=form, response=response, q=questionnaire,
        contact=contact, customer=customer, editable=editable, lang=lang_code(),
    ), (422 if form.errors else 200)  # fmt: skip


def _choice_id(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return -1  # names nothing: the operation says so


@bp.route("/followups/routes", methods=["GET", "POST"])
@require(Permission.ORGANISE_REPORTS)
def followup_routes_page() -> Any:
    """Who owns the follow-up tasks of a region and/or a service (the most specific rule wins)."""
    session, user = orm(), g.user
    scope = region_scope(user)
    regions = session.scalars(select(Region).order_by(Region.code)).all()
    regions = [r for r in regions if scope is None or r.id in scope]
    catalogue = {s.id: s for s in session.scalars(select(Service).order_by(Service.code))}
    services = [s for s in catalogue.values() if s.active]  # a rule may still name a retired one
    owners = followup_routes.possible_owners(session, user)
    form = FollowUpRouteForm()
    any_region = [SelectChoice("", _("Every region"))] if scope is None else []
    form.region_id.choices = any_region + [SelectChoice(str(r.id), localized(r)) for r in regions]
    form.service_id.choices = [SelectChoice("", _("Every service"))] + [
        SelectChoice(str(s.id), f"{s.code} {localized(s)}") for s in services
    ]
    form.owner_id.choices = [SelectChoice("", "—")] + [SelectChoice(str(u.id), _person(u)) for u in owners]
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                with atomic():
                    followup_routes.save_route(
                        session, user, region_id=_choice_id(form.region_id.data),
                        service_id=_choice_id(form.service_id.data), owner_id=_choice_id(form.owner_id.data),
                    )  # fmt: skip
            except SurveyError as exc:
                for problem in exc.problems:
                    target = form._fields.get(problem.form_field, form.region_id)
                    target.errors = [*target.errors, problem.text(is_zh())]  # type: ignore[assignment]
            else:
                flash(_("Routing rule saved."), "success")
                return redirect(url_for("surveys.followup_routes_page"))
        status = 422
    rules = followup_routes.routes(session, user)
    names = {r.id: r for r in regions}
    people = {u.id: u for u in session.scalars(select(User).where(User.id.in_({r.owner_id for r in rules})))}
    return render_template(
        "surveys/followup_routes.html", form=form, rules=rules, regions=names,
        services=catalogue, people=people, person=_person, delete_form=ActionForm(),
    ), status  # fmt: skip


@bp.post("/followups/routes/<int:route_id>/delete")
@require(Permission.ORGANISE_REPORTS)
def delete_followup_route(route_id: int) -> Any:
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("The form expired. Please try again."), "error")
        return redirect(url_for("surveys.followup_routes_page"))
    with atomic():
        found = followup_routes.delete_route(orm(), g.user, route_id)
    if not found:
        abort(404)
    flash(_("Routing rule removed."), "success")
    return redirect(url_for("surveys.followup_routes_page"))


def _person(user: User) -> str:
    return user.display_name or user.username
