"""Questionnaires: the published versions, publishing a new one, the built-in instruments."""

from __future__ import annotations

from typing import Any

import yaml
from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from perception.core.authz import Permission, can, deny, get_or_404, require
from perception.core.extensions import orm
from perception.core.i18n import is_zh
from perception.core.transaction import atomic
from perception.surveys.forms import ActionForm, PublishForm
from perception.surveys.models import Survey, SurveyVersion
from perception.surveys.services import definitions
from perception.surveys.services.errors import SurveyError
from perception.surveys.views import bp


@bp.route("/definitions", methods=["GET", "POST"])
@require(Permission.VIEW_SURVEYS)
def definitions_index() -> Any:
    form = PublishForm()
    problems: list[str] = []
    if form.validate_on_submit():
        if not can(Permission.MANAGE_SURVEYS):
            deny("missing permission manage_surveys")
        try:
            with atomic():
                version = definitions.publish(
                    orm(), form.code.data or "", form.definition.data or "", user_id=g.user.id
                )
        except SurveyError as exc:
            problems = [f"{p.field}: {p.text(is_zh())}" for p in exc.problems]
        else:
            flash(_("Published version %(n)s.", n=version.number), "success")
            return redirect(url_for("surveys.version", version_id=version.id))
    surveys = orm().scalars(select(Survey).order_by(Survey.code)).all()
    return render_template(
        "surveys/definitions.html", surveys=surveys, form=form, problems=problems, action_form=ActionForm()
    ), (422 if problems else 200)


@bp.post("/definitions/builtin")
@require(Permission.MANAGE_SURVEYS)
def publish_builtin() -> Any:
    if ActionForm().validate_on_submit():
        definitions.ensure_builtin_surveys(orm(), g.user.id)
        flash(_("The built-in questionnaires are published."), "success")
    return redirect(url_for("surveys.definitions_index"))


@bp.get("/versions/<int:version_id>")
@require(Permission.VIEW_SURVEYS)
def version(version_id: int) -> Any:
    item = get_or_404(SurveyVersion, version_id)
    text = yaml.safe_dump(item.definition, allow_unicode=True, sort_keys=False)
    questionnaire = definitions.questionnaire_of(item)
    return render_template("surveys/version.html", version=item, text=text, q=questionnaire)
