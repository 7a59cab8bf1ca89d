"""The service strategy pages (its current version, history and a new version), and the setup
index, which opens on the standards."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from perception.core.authz import Permission, can, require
from perception.core.extensions import orm
from perception.core.transaction import atomic
from perception.setup.forms import StrategyForm
from perception.setup.models.standards import ServiceStrategy
from perception.setup.services import catalog as setup_catalog
from perception.setup.services import schema as setup_schema
from perception.setup.services.errors import SetupError
from perception.setup.services.refs import username
from perception.setup.views import bp
from perception.setup.views.common import catalogue_choices, form_data, read, show_problems


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
            with atomic():
                created = setup_catalog.save_strategy(
                    orm(), read(setup_schema.read_strategy, form_data(form))
                )
        except SetupError as exc:
            show_problems(form, exc)
        else:
            flash(_("Strategy version %(n)s saved.", n=created.version if created else "?"), "success")
            return redirect(url_for("setup.strategy"))
    elif current is not None:
        form.process(obj=current)
        form.owner.data = username(orm(), current.owner_id)
        form.effective_from.data = ""
    return render_template("setup/strategy_form.html", form=form)
