"""Perception plan (lines and the coverage view), roles of the system, training records."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from perception.core.authz import Permission, can, get_or_404, region_scope, require, scoped
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.core.i18n import is_zh
from perception.core.models.auth import Role, User
from perception.core.models.org import CollectionPoint, CustomerOrg, Region
from perception.core.transaction import atomic
from perception.setup.forms import PlanForm, PointRolesForm, SystemOwnerForm, TrainingForm
from perception.setup.models.catalog import ServiceTier
from perception.setup.models.standards import PlanItem, TrainingRecord
from perception.setup.services import plan as setup_plan
from perception.setup.services import schema as setup_schema
from perception.setup.services.errors import SetupError
from perception.setup.services.refs import code_of, codes_of, username, usernames_of
from perception.setup.views import bp
from perception.setup.views.common import catalogue_choices, form_data, read, show_problems, user_choices


@bp.get("/plan")
@require(Permission.VIEW_SETUP)
def plan() -> Any:
    items = (
        orm()
        .scalars(
            scoped(select(PlanItem), PlanItem)
            .options(joinedload(PlanItem.service))
            .order_by(PlanItem.service_id, PlanItem.id)
        )
        .all()
    )
    # The coverage view is the provider's own planning; a customer representative sees their lines only.
    cov = (
        None
        if g.user.customer_id is not None
        else setup_plan.coverage(orm(), current_clock().today(), region_scope())
    )
    codes = {
        Region: codes_of(orm(), Region, (i.region_id for i in items)),
        CustomerOrg: codes_of(orm(), CustomerOrg, (i.customer_id for i in items)),
        ServiceTier: codes_of(orm(), ServiceTier, (i.tier_id for i in items)),
    }
    return render_template(
        "setup/plan.html",
        items=items,
        cov=cov,
        code_of=lambda model, i: codes[model].get(i),
        Region=Region,
        CustomerOrg=CustomerOrg,
        ServiceTier=ServiceTier,
        can_manage=can(Permission.MANAGE_SETUP),
    )


def _plan_form(item: PlanItem | None) -> Any:
    form = PlanForm()
    catalogue_choices(form)
    if form.is_submitted():
        try:
            with atomic():
                setup_plan.save_plan_item(orm(), read(setup_schema.read_plan, form_data(form)), existing=item)
        except SetupError as exc:
            show_problems(form, exc)
        else:
            flash(_("Plan line saved."), "success")
            return redirect(url_for("setup.plan"))
    elif item is not None:
        from perception.setup.models.catalog import Service

        form.process(obj=item)
        form.service.data = code_of(orm(), Service, item.service_id)
        form.region.data = code_of(orm(), Region, item.region_id) or ""
        form.customer.data = code_of(orm(), CustomerOrg, item.customer_id) or ""
        form.tier.data = code_of(orm(), ServiceTier, item.tier_id) or ""
        form.owner.data = username(orm(), item.owner_id) or ""
        form.sample_size.data = "" if item.sample_size is None else str(item.sample_size)
        form.sample_share.data = "" if item.sample_share is None else f"{item.sample_share:g}"
    return render_template("setup/simple_form.html", form=form, title=_("Perception plan line"), locked=())


@bp.route("/plan/new", methods=["GET", "POST"])
@require(Permission.MANAGE_SETUP)
def plan_new() -> Any:
    return _plan_form(None)


@bp.route("/plan/<int:item_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_SETUP)
def plan_edit(item_id: int) -> Any:
    return _plan_form(get_or_404(PlanItem, item_id))


@bp.post("/plan/<int:item_id>/delete")
@require(Permission.MANAGE_SETUP)
def plan_delete(item_id: int) -> Any:
    setup_plan.delete_plan_item(orm(), get_or_404(PlanItem, item_id))
    flash(_("Plan line removed."), "success")
    return redirect(url_for("setup.plan"))


@bp.get("/training")
@require(Permission.VIEW_SETUP)
def training() -> Any:
    rows = (
        orm()
        .scalars(
            scoped(select(TrainingRecord), TrainingRecord).order_by(
                TrainingRecord.held_on.desc(), TrainingRecord.id
            )
        )
        .all()
    )
    codes = {Region: codes_of(orm(), Region, (t.region_id for t in rows))}
    return render_template(
        "setup/training.html",
        rows=rows,
        code_of=lambda model, i: codes[model].get(i),
        Region=Region,
        can_manage=can(Permission.MANAGE_SETUP),
    )


def _training_form(record: TrainingRecord | None) -> Any:
    form = TrainingForm()
    catalogue_choices(form)
    if form.is_submitted():
        try:
            with atomic():
                setup_plan.save_training(
                    orm(), read(setup_schema.read_training, form_data(form)), existing=record
                )
        except SetupError as exc:
            show_problems(form, exc)
        else:
            flash(_("Training record saved."), "success")
            return redirect(url_for("setup.training"))
    elif record is not None:
        form.process(obj=record)
        form.trainee.data = record.trainee_name
        form.user.data = username(orm(), record.user_id) or ""
        form.region.data = code_of(orm(), Region, record.region_id) or ""
        form.held_on.data = record.held_on.isoformat()
        form.hours.data = "" if record.hours is None else f"{record.hours:g}"
    return render_template("setup/simple_form.html", form=form, title=_("Training record"), locked=())


@bp.route("/training/new", methods=["GET", "POST"])
@require(Permission.MANAGE_SETUP)
def training_new() -> Any:
    return _training_form(None)


@bp.route("/training/<int:record_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_SETUP)
def training_edit(record_id: int) -> Any:
    return _training_form(get_or_404(TrainingRecord, record_id))


def _provider_name() -> str:
    zh, en = setup_plan.provider_names(orm())
    return (zh or en) if is_zh() else (en or zh)


def _roles_page(form: SystemOwnerForm) -> Any:
    owner_id = setup_plan.system_owner_id(orm())
    points = (
        orm().scalars(scoped(select(CollectionPoint), CollectionPoint).order_by(CollectionPoint.code)).all()
    )
    names = usernames_of(orm(), [owner_id, *(p.lead_id for p in points), *(p.organiser_id for p in points)])
    return render_template(
        "setup/roles.html",
        form=form,
        system_owner_id=owner_id,
        provider_name=_provider_name(),
        points=points,
        name=names.get,
        can_manage=can(Permission.MANAGE_SETUP),
    )


@bp.get("/roles")
@require(Permission.VIEW_SETUP)
def roles() -> Any:
    form = SystemOwnerForm()
    form.system_owner.choices = user_choices(Role.SYSTEM_OWNER)
    form.system_owner.data = username(orm(), setup_plan.system_owner_id(orm())) or ""
    form.provider_name_zh.data, form.provider_name_en.data = setup_plan.provider_names(orm())
    return _roles_page(form)


@bp.post("/roles")
@require(Permission.MANAGE_SETUP)
def roles_save() -> Any:
    form = SystemOwnerForm()
    form.system_owner.choices = user_choices(Role.SYSTEM_OWNER)
    user = orm().scalar(select(User).where(User.username == (form.system_owner.data or "")))
    if not form.validate():
        return _roles_page(form)
    try:
        with atomic():
            setup_plan.set_system_owner(orm(), user)
            setup_plan.set_provider_names(
                orm(), form.provider_name_zh.data or "", form.provider_name_en.data or ""
            )
    except SetupError as exc:
        show_problems(form, exc)
        return _roles_page(form)
    flash(_("System owner saved."), "success")
    return redirect(url_for("setup.roles"))


def _user_or_none(value: str | None) -> User | None:
    return orm().get(User, int(value)) if value and value.isdigit() else None


@bp.route("/roles/points/<int:point_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_SETUP)
def point_roles(point_id: int) -> Any:
    point = get_or_404(CollectionPoint, point_id)
    form = PointRolesForm()
    form.lead_id.choices = user_choices(key="id")
    form.organiser_id.choices = user_choices(key="id")
    if form.is_submitted():
        lead, organiser = _user_or_none(form.lead_id.data), _user_or_none(form.organiser_id.data)
        try:
            with atomic():
                setup_plan.set_point_roles(orm(), point, lead, organiser)
        except SetupError as exc:
            show_problems(form, exc)
        else:
            flash(_("Roles of %(code)s saved.", code=point.code), "success")
            return redirect(url_for("setup.roles"))
    else:
        form.lead_id.data = str(point.lead_id or "")
        form.organiser_id.data = str(point.organiser_id or "")
    return render_template("setup/simple_form.html", form=form, title=point.code, locked=())
