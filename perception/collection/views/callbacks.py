"""Phone callbacks: campaigns (queues) per region, one task's attempts and the callback script."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from perception.collection import access
from perception.collection.forms import AttemptForm, CampaignForm
from perception.collection.labels import CALLBACK_STATUS
from perception.collection.models.fieldwork import CallbackCampaign, CallbackTask
from perception.collection.services import callbacks as callback_service
from perception.collection.services.errors import CollectionError
from perception.collection.views import bp
from perception.core.authz import Permission, get_or_404, require, scoped
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.core.i18n import is_zh, lang_code
from perception.core.models.org import Contact, Region
from perception.core.transaction import atomic
from perception.surveys.models import SurveyVersion
from perception.surveys.services.settings import SurveySettings
from surveys import Lang, build_page_form


def _campaign_form() -> CampaignForm:
    form = CampaignForm()
    zh = is_zh()
    regions = orm().scalars(scoped(select(Region).order_by(Region.code), Region))
    form.region_id.choices = [SelectChoice(r.id, r.name_zh if zh else r.name_en) for r in regions]
    from perception.surveys.services.definitions import versions_for_choice

    form.survey_version_id.choices = [
        SelectChoice(v.id, f"{s.name_zh if zh else s.name_en} v{v.number}")
        for v, s in versions_for_choice(orm())
    ]
    callback = [
        c for c in form.survey_version_id.choices if "回访" in str(c.label) or "allback" in str(c.label)
    ]
    if callback and request.method == "GET":
        form.survey_version_id.data = callback[0].value
    return form


@bp.get("/callbacks")
@require(Permission.RECORD_CALLBACK)
def callbacks() -> Any:
    campaigns = (
        orm()
        .scalars(
            scoped(select(CallbackCampaign).order_by(CallbackCampaign.id.desc()).limit(100), CallbackCampaign)
        )
        .all()
    )
    progress = {c.id: _progress(c) for c in campaigns}
    return render_template(
        "collection/callbacks.html",
        campaigns=campaigns,
        progress=progress,
        regions={r.id: r for r in orm().scalars(select(Region))},
        form=_campaign_form(),
    )


def _progress(campaign: CallbackCampaign) -> dict[str, int]:
    tasks = campaign.tasks
    return {
        "planned": len(tasks),
        "completed": sum(t.status == "completed" for t in tasks),
        "attempted": sum(t.attempts > 0 for t in tasks),
    }


@bp.post("/callbacks/new")
@require(Permission.RECORD_CALLBACK)
def callback_new() -> Any:
    form = _campaign_form()
    if not form.validate_on_submit():
        flash(_("Please correct the highlighted fields."), "error")
        return redirect(url_for("collection.callbacks"))
    get_or_404(Region, form.region_id.data)
    emails = [line.strip() for line in (form.contacts.data or "").splitlines() if line.strip()]
    contact_ids = list(
        orm().scalars(
            select(Contact.id).where(Contact.email.in_(emails), Contact.region_id == form.region_id.data)
        )
    )
    try:
        if emails and len(contact_ids) < len(set(emails)):
            raise CollectionError.one(
                "contacts",
                "部分邮箱不是该区域的联系人。",
                "Some emails match no contact of this region.",
                code="unknown_contact",
            )
        with atomic():
            campaign = callback_service.create_campaign(
                orm(),
                region_id=form.region_id.data,
                name=form.name.data or "",
                survey_version_id=form.survey_version_id.data,
                user=access.user(),
                start=form.period_start.data,
                end=form.period_end.data,
                sampling_rate=(form.sampling_rate.data or 0) / 100,
                contact_ids=contact_ids,
            )
    except CollectionError as exc:
        flash(exc.problems[0].text(is_zh()), "error")
        return redirect(url_for("collection.callbacks"))
    flash(_("Callback queue created with %(n)s calls.", n=len(campaign.tasks)), "success")
    return redirect(url_for("collection.callback_campaign", campaign_id=campaign.id))


@bp.get("/callbacks/<int:campaign_id>")
@require(Permission.RECORD_CALLBACK)
def callback_campaign(campaign_id: int) -> Any:
    campaign = get_or_404(CallbackCampaign, campaign_id)
    return render_template(
        "collection/callback_campaign.html", campaign=campaign, progress=_progress(campaign)
    )


def _script_forms(task: CallbackTask, formdata: Any) -> list[Any]:
    """The callback script's pages after "reached", prefilled as reached, bound to ``formdata``."""
    version_id = task.campaign.survey_version_id
    version = orm().get(SurveyVersion, version_id) if version_id else None
    if version is None:
        return []
    from perception.surveys.services.definitions import questionnaire_of

    questionnaire = questionnaire_of(version)
    lang: Lang = "zh" if is_zh() else "en"
    forms = []
    for index, page in enumerate(questionnaire.pages):
        if any(q.id == "reached" for q in page.questions):
            continue
        form_class = build_page_form(questionnaire, index, lang, FlaskForm, answers={"reached": "reached"})
        forms.append((page, form_class(formdata=formdata, meta={"csrf": False})))
    return forms


@bp.route("/callbacks/tasks/<int:task_id>", methods=["GET", "POST"])
@require(Permission.RECORD_CALLBACK)
def callback_task(task_id: int) -> Any:
    task = get_or_404(CallbackTask, task_id)
    form = AttemptForm()
    form.outcome.choices = [SelectChoice(k, v) for k, v in CALLBACK_STATUS.items() if k != "pending"]
    scripts = _script_forms(task, request.form if request.method == "POST" else None)
    errors: list[str] = []
    if request.method == "POST":
        if task.status == "completed":
            abort(409)
        if form.validate_on_submit():
            answers: dict[str, object] = {}
            for _page, page_form in scripts:
                answers.update(page_form.survey_answers())
            clock = current_clock()
            try:
                with atomic():
                    callback_service.record_attempt(
                        orm(),
                        task,
                        access.user(),
                        form.outcome.data or "",
                        answers=answers,
                        note=form.note.data,
                        language=lang_code(),
                        now=clock.now(),
                        org_timezone=clock.timezone,
                        survey_settings=SurveySettings.from_config(current_app.config),
                    )
            except CollectionError as exc:
                errors = [p.located(is_zh()) for p in exc.problems]
            else:
                flash(_("Call recorded."), "success")
                return redirect(url_for("collection.callback_campaign", campaign_id=task.campaign_id))
        else:
            errors = [_("Please correct the highlighted fields.")]
    return render_template(
        "collection/callback_task.html",
        task=task,
        form=form,
        scripts=scripts,
        errors=errors,
        engineer_warning=callback_service.is_handling_engineer(access.user(), task.engineer),
    ), (422 if errors else 200)
