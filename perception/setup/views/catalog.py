"""Service catalogue pages: services (with the regions they are delivered in), tiers, subscriptions."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from perception.core.authz import Permission, can, get_or_404, require, scoped
from perception.core.extensions import orm
from perception.core.models.org import CustomerOrg, Region
from perception.core.transaction import atomic
from perception.setup.forms import ServiceForm, SubscriptionForm, TierForm
from perception.setup.models.catalog import Service, ServiceTier, Subscription
from perception.setup.services import catalog as setup_catalog
from perception.setup.services import schema as setup_schema
from perception.setup.services.errors import SetupError
from perception.setup.services.refs import codes_of, username
from perception.setup.views import bp
from perception.setup.views.common import catalogue_choices, form_data, read, show_problems


@bp.get("/services")
@require(Permission.VIEW_SETUP)
def services() -> Any:
    rows = orm().scalars(select(Service).order_by(Service.code)).all()
    count_stmt: Any = select(Subscription.service_id, func.count()).group_by(Subscription.service_id)
    counts: dict[int, int] = {sid: n for sid, n in orm().execute(scoped(count_stmt, Subscription))}
    codes = setup_catalog.service_region_codes(orm())
    regions = {s.id: codes.get(s.id, []) for s in rows}
    tiers = orm().scalars(select(ServiceTier).order_by(ServiceTier.rank)).all()
    return render_template(
        "setup/services.html",
        services=rows,
        counts=counts,
        regions=regions,
        tiers=tiers,
        can_manage=can(Permission.MANAGE_SETUP),
    )


def _service_form(service: Service | None) -> Any:
    form = ServiceForm()
    catalogue_choices(form)
    if form.is_submitted():
        data = form_data(form)
        if service is not None:
            data["code"] = service.code  # the code is the stable identity
        try:
            with atomic():
                saved = setup_catalog.save_service(orm(), read(setup_schema.read_service, data))
        except SetupError as exc:
            show_problems(form, exc)
        else:
            flash(_("Service %(code)s saved.", code=saved.code if saved else ""), "success")
            return redirect(url_for("setup.services"))
    elif service is not None:
        form.process(obj=service)
        form.owner.data = username(orm(), service.owner_id) or ""
        region_ids = setup_catalog.service_region_ids(orm(), service.id)
        form.regions.data = sorted(codes_of(orm(), Region, region_ids).values())
    return render_template("setup/service_form.html", form=form, service=service)


@bp.route("/services/new", methods=["GET", "POST"])
@require(Permission.MANAGE_SETUP)
def service_new() -> Any:
    return _service_form(None)


@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_SETUP)
def service_edit(service_id: int) -> Any:
    return _service_form(get_or_404(Service, service_id))


def _tier_form(tier: ServiceTier | None) -> Any:
    form = TierForm()
    if form.is_submitted():
        data = form_data(form)
        if tier is not None:
            data["code"] = tier.code
        try:
            with atomic():
                setup_catalog.save_tier(orm(), read(setup_schema.read_tier, data))
        except SetupError as exc:
            show_problems(form, exc)
        else:
            flash(_("Tier saved."), "success")
            return redirect(url_for("setup.services"))
    elif tier is not None:
        form.process(obj=tier)
    return render_template(
        "setup/simple_form.html", form=form, title=_("Service tier"), locked=("code",) if tier else ()
    )


@bp.route("/tiers/new", methods=["GET", "POST"])
@require(Permission.MANAGE_SETUP)
def tier_new() -> Any:
    return _tier_form(None)


@bp.route("/tiers/<int:tier_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_SETUP)
def tier_edit(tier_id: int) -> Any:
    return _tier_form(get_or_404(ServiceTier, tier_id))


def _subscriptions_page(form: SubscriptionForm) -> Any:
    stmt = scoped(select(Subscription), Subscription).join(
        CustomerOrg, CustomerOrg.id == Subscription.customer_id
    )
    service_code = request.args.get("service", "")
    if service_code:
        stmt = stmt.join(Service, Service.id == Subscription.service_id).where(Service.code == service_code)
        form.service.data = form.service.data or service_code
    rows = (
        orm()
        .scalars(
            stmt.options(joinedload(Subscription.service), joinedload(Subscription.tier)).order_by(
                CustomerOrg.code, Subscription.service_id
            )
        )
        .all()
    )
    customers = {c.id: c for c in orm().scalars(select(CustomerOrg))}
    return render_template(
        "setup/subscriptions.html",
        rows=rows,
        customers=customers,
        form=form,
        service_code=service_code,
        can_manage=can(Permission.MANAGE_SETUP),
    )


@bp.get("/subscriptions")
@require(Permission.VIEW_SETUP)
def subscriptions() -> Any:
    form = SubscriptionForm()
    catalogue_choices(form)
    return _subscriptions_page(form)


@bp.post("/subscriptions")
@require(Permission.MANAGE_SETUP)
def subscription_add() -> Any:
    form = SubscriptionForm()
    catalogue_choices(form)
    try:
        with atomic():
            setup_catalog.save_subscription(orm(), read(setup_schema.read_subscription, form_data(form)))
    except SetupError as exc:
        show_problems(form, exc)
        return _subscriptions_page(form), 422
    flash(_("Subscription saved."), "success")
    return redirect(url_for("setup.subscriptions", service=form.service.data or ""))


@bp.post("/subscriptions/<int:subscription_id>/delete")
@require(Permission.MANAGE_SETUP)
def subscription_delete(subscription_id: int) -> Any:
    setup_catalog.delete_subscription(orm(), get_or_404(Subscription, subscription_id))
    flash(_("Subscription removed."), "success")
    return redirect(url_for("setup.subscriptions"))
