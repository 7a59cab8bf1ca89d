"""The continual improvement register pages: the filterable list (overdue items highlighted), one
item with its measured result, and the create/edit form."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from perception.core.authz import Permission, can, get_or_404, require, scoped
from perception.core.clock import current_clock
from perception.core.errors import UserError
from perception.core.extensions import orm
from perception.core.i18n import lang_code, localized
from perception.core.models.auth import User
from perception.core.models.org import Region
from perception.core.transaction import atomic
from perception.core.vocabulary import FEEDBACK_DIMENSIONS
from perception.review.forms import METRICS, PRIORITIES, SOURCES, STATUSES, ItemForm, SignForm
from perception.review.models import ImprovementItem, ImprovementStatus, Review
from perception.review.services import register as review_register
from perception.review.services import results as review_results
from perception.review.views import bp
from perception.setup.models.catalog import Service


def parse_filter(args: Any) -> review_register.RegisterFilter:
    def number(name: str) -> int | None:
        value = args.get(name, type=int)  # bounded: see perception.web.parameters
        return value if value is not None and value > 0 else None

    return review_register.RegisterFilter(
        status=args.get("status") or None,
        priority=args.get("priority") or None,
        source=args.get("source") or None,
        owner_id=number("owner"),
        region_id=number("region"),
        review_id=number("review"),
        overdue=args.get("overdue") in ("1", "on", "true"),
        q=args.get("q") or None,
    )


def _owners() -> dict[int, str]:
    return dict(orm().execute(select(User.id, User.display_name).where(User.active.is_(True))).all())


@bp.get("/improvements")
@require(Permission.VIEW_REVIEW, Permission.MANAGE_IMPROVEMENTS)
def register() -> Any:
    flt = parse_filter(request.args)
    today = current_clock().today()
    stmt = review_register.apply_filter(scoped(select(ImprovementItem), ImprovementItem), flt, today)
    items = orm().scalars(stmt).all()
    regions = orm().scalars(scoped(select(Region).order_by(Region.code), Region)).all()
    return render_template(
        "review/register.html",
        items=items,
        flt=flt,
        today=today,
        owners=_owners(),
        regions=regions,
        reviews=orm().scalars(select(Review).order_by(Review.period_start.desc())).all(),
        statuses=STATUSES,
        priorities=PRIORITIES,
        sources=SOURCES,
        may_manage=can(Permission.MANAGE_IMPROVEMENTS),
    )


def _fill_choices(form: ItemForm) -> None:
    blank = [SelectChoice("", "—")]
    form.owner_id.choices = blank + [
        SelectChoice(str(i), n) for i, n in sorted(_owners().items(), key=lambda kv: kv[1])
    ]
    regions = orm().scalars(scoped(select(Region).order_by(Region.code), Region)).all()
    everywhere = [] if g.user.region_id else [SelectChoice("", _("All regions"))]
    form.region_id.choices = everywhere + [SelectChoice(str(r.id), localized(r)) for r in regions]
    services = orm().scalars(select(Service).order_by(Service.code)).all()
    form.metric_service_id.choices = blank + [
        SelectChoice(str(s.id), f"{s.code} {localized(s)}") for s in services
    ]
    form.metric_dimension.choices = blank + [
        SelectChoice(code, str(label)) for code, label in FEEDBACK_DIMENSIONS.items()
    ]


def _save(form: ItemForm, item: ImprovementItem | None) -> ImprovementItem | None:
    data = form.service_data()
    if g.user.region_id and str(data.get("region_id") or "") != str(g.user.region_id):
        form.region_id.errors = [_("You can only record improvements for your own region.")]
        return None
    today = current_clock().today()
    try:
        with atomic():
            base = review_register.input_of(item) if item is not None else None
            parsed = review_register.parse_item(data, base)
            if item is None:
                return review_register.create_item(orm(), parsed, today=today, user_id=g.user.id)
            return review_register.update_item(orm(), item, parsed, today=today)
    except UserError as exc:
        # Each problem on the field it names (the title when no field of the form matches).
        for problem in exc.problems:
            target = form._fields.get(problem.form_field, form.title)
            target.errors = [*target.errors, problem.text(lang_code())]  # type: ignore[list-item]
        return None


@bp.route("/improvements/new", methods=["GET", "POST"])
@require(Permission.MANAGE_IMPROVEMENTS)
def item_new() -> Any:
    form = ItemForm()
    _fill_choices(form)
    if request.method == "GET":
        form.source.data = request.args.get("source") or "analyst"
        form.source_ref.data = request.args.get("source_ref") or ""
        form.title.data = request.args.get("title") or ""
        form.owner_id.data = str(g.user.id)
        if g.user.region_id:
            form.region_id.data = str(g.user.region_id)
    if form.validate_on_submit():
        saved = _save(form, None)
        if saved is not None:
            flash(_("Improvement %(code)s added to the register.", code=saved.code), "success")
            return redirect(url_for("review.item", item_id=saved.id))
    return render_template("review/item_form.html", form=form, item=None, metrics=METRICS)


@bp.route("/improvements/<int:item_id>", methods=["GET", "POST"])
@require(Permission.VIEW_REVIEW, Permission.MANAGE_IMPROVEMENTS)
def item(item_id: int) -> Any:
    obj = get_or_404(ImprovementItem, item_id)
    form = ItemForm(obj=obj)
    _fill_choices(form)
    if request.method == "GET":
        for name in ItemForm.SERVICE_FIELDS:
            value = getattr(obj, name)
            form[name].data = (
                "" if value is None else (value.isoformat() if hasattr(value, "isoformat") else str(value))
            )
        form.measure_weeks.data = obj.measure_weeks
    if request.method == "POST":
        if not can(Permission.MANAGE_IMPROVEMENTS):
            abort(403)
        if form.validate_on_submit():
            saved = _save(form, obj)
            if saved is not None:
                flash(_("Saved."), "success")
                return redirect(url_for("review.item", item_id=item_id))
    return render_template(
        "review/item.html",
        item=obj,
        form=form,
        owner=orm().get(User, obj.owner_id) if obj.owner_id else None,
        today=current_clock().today(),
        statuses=STATUSES,
        priorities=PRIORITIES,
        sources=SOURCES,
        metrics=METRICS,
        may_manage=can(Permission.MANAGE_IMPROVEMENTS),
        measure_form=SignForm(),
        completed=ImprovementStatus.COMPLETED,
    )


@bp.post("/improvements/<int:item_id>/measure")
@require(Permission.MANAGE_IMPROVEMENTS)
def item_measure(item_id: int) -> Any:
    obj = get_or_404(ImprovementItem, item_id)
    if not SignForm().validate_on_submit():
        abort(400)
    review_results.refresh_result(orm(), obj, current_clock().today())
    flash(_("The result was computed again from the data."), "success")
    return redirect(url_for("review.item", item_id=item_id))
