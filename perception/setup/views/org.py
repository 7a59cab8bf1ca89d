"""Organisation pages: regions, collection points, customer organisations and their contacts.
Lists are region-scoped; a region-bound user sees only their region."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from perception.core.authz import Permission, can, get_or_404, require, scoped
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.core.models.org import CollectionPoint, Contact, CustomerOrg, Region
from perception.core.transaction import atomic
from perception.setup.forms import ContactForm, CustomerForm, PointForm, RegionForm
from perception.setup.models.catalog import Subscription
from perception.setup.services import catalog as setup_catalog
from perception.setup.services import schema as setup_schema
from perception.setup.services.errors import SetupError
from perception.setup.services.refs import code_of, codes_of
from perception.setup.views import bp
from perception.setup.views.common import catalogue_choices, form_data, read, show_problems


@bp.get("/organisation")
@require(Permission.VIEW_SETUP)
def organisation() -> Any:
    def rows(model: type) -> list[Any]:
        return list(orm().scalars(scoped(select(model), model).order_by(model.code)))  # type: ignore[attr-defined]

    points, customers = rows(CollectionPoint), rows(CustomerOrg)
    region_codes = codes_of(
        orm(), Region, [*(p.region_id for p in points), *(c.region_id for c in customers)]
    )
    return render_template(
        "setup/organisation.html",
        regions=rows(Region),
        points=points,
        customers=customers,
        region_code=region_codes.get,
        can_manage=can(Permission.MANAGE_SETUP),
    )


def _form_page(form: Any, obj: Any, reader: Any, saver: Any, title: str, prefill: dict[str, Any]) -> Any:
    catalogue_choices(form)
    if form.is_submitted():
        data = form_data(form)
        if obj is not None and "code" in data:
            data["code"] = obj.code
        try:
            with atomic():
                saver(orm(), read(reader, data))
        except SetupError as exc:
            show_problems(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("setup.organisation"))
    elif obj is not None:
        form.process(obj=obj)
        for key, value in prefill.items():
            form[key].data = value
    return render_template("setup/simple_form.html", form=form, title=title, locked=("code",) if obj else ())


@bp.route("/regions/new", methods=["GET", "POST"])
@bp.route("/regions/<int:region_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_SETUP)
def region_form(region_id: int | None = None) -> Any:
    region = get_or_404(Region, region_id) if region_id else None
    # A new region is in the organisation's time zone unless the person names another.
    timezone = current_clock().timezone
    return _form_page(
        RegionForm(timezone=timezone),
        region,
        partial(setup_schema.read_region, default_timezone=timezone),
        setup_catalog.save_region,
        _("Region"),
        {},
    )


@bp.route("/points/new", methods=["GET", "POST"])
@bp.route("/points/<int:point_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_SETUP)
def point_form(point_id: int | None = None) -> Any:
    point = get_or_404(CollectionPoint, point_id) if point_id else None
    prefill = {}
    if point is not None:
        prefill = {
            "region": code_of(orm(), Region, point.region_id),
            "report_due_weekday": str(point.report_due_weekday),
            "report_due_time": point.report_due_time.strftime("%H:%M"),
        }
    return _form_page(
        PointForm(), point, setup_schema.read_point, setup_catalog.save_point, _("Collection point"), prefill
    )


@bp.route("/customers/new", methods=["GET", "POST"])
@bp.route("/customers/<int:customer_id>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_SETUP)
def customer_form(customer_id: int | None = None) -> Any:
    customer = get_or_404(CustomerOrg, customer_id) if customer_id else None
    prefill = {"region": code_of(orm(), Region, customer.region_id)} if customer else {}
    return _form_page(
        CustomerForm(),
        customer,
        setup_schema.read_customer,
        setup_catalog.save_customer,
        _("Customer"),
        prefill,
    )


@bp.get("/customers/<int:customer_id>")
@require(Permission.VIEW_SETUP)
def customer_detail(customer_id: int) -> Any:
    customer = get_or_404(CustomerOrg, customer_id)
    subs = orm().scalars(select(Subscription).where(Subscription.customer_id == customer.id)).all()
    return render_template(
        "setup/customer.html",
        customer=customer,
        contacts=orm()
        .scalars(
            scoped(select(Contact).where(Contact.customer_id == customer.id).order_by(Contact.name), Contact)
        )
        .all(),
        subscriptions=subs,
        can_manage=can(Permission.MANAGE_SETUP),
        region_code=code_of(orm(), Region, customer.region_id),
    )


@bp.route("/customers/<int:customer_id>/contacts/new", methods=["GET", "POST"])
@bp.route("/customers/<int:customer_id>/contacts/<int:contact_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_SETUP)
def contact_form(customer_id: int, contact_id: int | None = None) -> Any:
    customer = get_or_404(CustomerOrg, customer_id)
    contact = get_or_404(Contact, contact_id) if contact_id else None
    if contact is not None and contact.customer_id != customer.id:
        abort(404)
    form = ContactForm()
    if form.is_submitted():
        data = form_data(form) | {"customer": customer.code}
        try:
            with atomic():
                setup_catalog.save_contact(orm(), read(setup_schema.read_contact, data), existing=contact)
        except SetupError as exc:
            show_problems(form, exc)
        else:
            flash(_("Contact saved."), "success")
            return redirect(url_for("setup.customer_detail", customer_id=customer.id))
    elif contact is not None:
        form.process(obj=contact)
    return render_template("setup/simple_form.html", form=form, title=_("Contact"), locked=())
