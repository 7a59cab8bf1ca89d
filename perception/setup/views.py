"""Setup views: the service strategy here; the other pages live in the views_* modules below."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from perception.authz import Permission, can, require
from perception.extensions import orm
from perception.models.setup import ServiceStrategy
from perception.services import setup_catalog, setup_schema
from perception.services.setup_errors import SetupError
from perception.setup import bp
from perception.setup.common import catalogue_choices, form_data, read, show_problems
from perception.setup.forms import StrategyForm


@bp.get("/")
@require(Permission.VIEW_SETUP)
def index() -> Any:
    return redirect(url_for("setup.standards"))


@bp.get("/strategy")
@require(Permission.VIEW_SETUP)
def strategy() -> Any:
    current = setup_catalog.current_strategy(orm())
    history = orm().scalars(select(ServiceStrategy).order_by(ServiceStrategy.version.desc())).all()
    return render_template(
        "setup/strategy.html", current=current, history=history, can_manage=can(Permission.MANAGE_SETUP)
    )


@bp.route("/strategy/new", methods=["GET", "POST"])
@require(Permission.MANAGE_SETUP)
def strategy_new() -> Any:
    form = StrategyForm()
    catalogue_choices(form)
    current = setup_catalog.current_strategy(orm())
    if form.is_submitted():
        try:
            d = read(setup_schema.read_strategy, form_data(form))
            created = setup_catalog.save_strategy(orm(), d)
        except SetupError as exc:
            orm().rollback()
            show_problems(form, exc)
        else:
            orm().commit()
            flash(_("Strategy version %(n)s saved.", n=created.version if created else "?"), "success")
            return redirect(url_for("setup.strategy"))
    elif current is not None:
        form.process(obj=current)
        form.owner.data = current.owner_id and _username(current.owner_id)
        form.effective_from.data = ""
    return render_template("setup/strategy_form.html", form=form)


def _username(user_id: int) -> str | None:
    from perception.services.setup_refs import username

    return username(orm(), user_id)


from perception.setup import (  # noqa: E402,F401
    views_catalog,
    views_config,
    views_org,
    views_plan,
    views_sla,
    views_standards,
)
