"""Demand and text analysis: themes (name, merge, split), the run button, settings and the domain
dictionary, categories, the review queue and labelling, sending needs to the market department.
The request's transaction commits (perception.core.transaction); each operation runs in
``atomic()`` so a refused one leaves nothing behind while its problems are flashed."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from perception.analysis.forms import (
    SENTIMENT_LABELS,
    ActionForm,
    CategoryForm,
    LabelForm,
    MergeThemesForm,
    RenameThemeForm,
    SendNeedForm,
    SplitThemeForm,
    TextSettingsForm,
)
from perception.analysis.jobs import rerun_text_analysis, text_analysis_state
from perception.analysis.services import text_settings
from perception.analysis.services.demand import demand as demand_service
from perception.analysis.services.demand_chart import demand_chart as demand_chart_svg
from perception.analysis.services.opportunities import create_from_need, market_users
from perception.analysis.services.review_queue import label_entries, review_groups
from perception.analysis.services.text_labels import (
    classifier_status,
    label_entry,
    review_queue_size,
)
from perception.analysis.views import bp
from perception.analysis.views.common import current_filters, flash_problems, page_context
from perception.core.authz import Permission, can, get_or_404, region_scope, require
from perception.core.errors import UserError
from perception.core.extensions import orm
from perception.core.i18n import is_zh, lang_code, localized
from perception.core.models.facts import TextEntry
from perception.core.transaction import atomic


def _back() -> Any:
    return redirect(request.form.get("next") or url_for("analysis.demand"))


def _label_form() -> LabelForm:
    form = LabelForm()
    form.category.choices = [SelectChoice("", "—")] + [
        SelectChoice(c.code, localized(c)) for c in text_settings.categories(orm())
    ]
    return form


def _owner_choices() -> list[SelectChoice]:
    return [SelectChoice(0, "—")] + [SelectChoice(u.id, u.display_name) for u in market_users(orm())]


@bp.get("/demand")
@require(Permission.VIEW_ANALYSIS)
def demand() -> Any:
    filters, error = current_filters()
    view = demand_service(orm(), filters, lang_code())
    settings = text_settings.get_settings(orm())
    send = SendNeedForm()
    send.owner_id.choices = _owner_choices()
    settings_form = TextSettingsForm(
        user_words="\n".join(text_settings.user_words(orm())),
        theme_count=settings.theme_count or 0,
        min_customers=settings.min_customers,
        min_regions=settings.min_regions,
        review_threshold=settings.review_threshold,
        formdata=None,
    )
    return render_template(
        "analysis/demand.html",
        **page_context(
            filters,
            error,
            view=view,
            status=classifier_status(orm()),
            queue_size=review_queue_size(orm(), filters),
            manage=can(Permission.MANAGE_TEXT_ANALYSIS),
            action=ActionForm(),
            rename=RenameThemeForm(formdata=None),
            merge=MergeThemesForm(formdata=None),
            split=SplitThemeForm(formdata=None),
            send=send,
            settings_form=settings_form,
            category_form=CategoryForm(formdata=None),
            categories=text_settings.categories(orm()),
            emerging_alpha=settings.emerging_alpha,
            emerging_min=settings.emerging_min_entries,
            text_job=text_analysis_state(),
        ),
    )


@bp.get("/demand/chart.svg")
@require(Permission.VIEW_ANALYSIS)
def demand_chart() -> Any:
    filters, _error = current_filters()
    view = demand_service(orm(), filters, lang_code())
    data = demand_chart_svg(view, is_zh())
    return Response(data, mimetype="image/svg+xml", headers={"Cache-Control": "private, max-age=60"})


@bp.post("/demand/run")
@require(Permission.MANAGE_TEXT_ANALYSIS)
def run_text() -> Any:
    if ActionForm().validate_on_submit():
        job_id = rerun_text_analysis(g.user.id)
        flash(
            _("The text analysis is running in the background; its progress is shown below.")
            if job_id
            else _("The text analysis was re-run."),
            "success",
        )
    return _back()


@bp.post("/demand/themes/<key>/rename")
@require(Permission.MANAGE_TEXT_ANALYSIS)
def rename_theme(key: str) -> Any:
    form = RenameThemeForm()
    if form.validate_on_submit():
        try:
            with atomic():
                text_settings.rename_theme(orm(), key, form.name.data or "")
        except UserError as exc:
            flash_problems(exc)
        else:
            flash(_("Theme renamed."), "success")
    return _back()


@bp.post("/demand/themes/merge")
@require(Permission.MANAGE_TEXT_ANALYSIS)
def merge_themes() -> Any:
    form = MergeThemesForm()
    if form.validate_on_submit():
        keys = [k for k in (form.keys.data or "").replace(",", " ").split() if k]
        try:
            with atomic():
                text_settings.merge_themes(orm(), keys, form.into.data or None)
                rerun_text_analysis(g.user.id)
        except UserError as exc:
            flash_problems(exc)
        else:
            flash(_("Themes merged; the analysis is re-run with your decision."), "success")
    else:
        flash(_("Give the keys of the themes to merge."), "error")
    return _back()


@bp.post("/demand/themes/<key>/split")
@require(Permission.MANAGE_TEXT_ANALYSIS)
def split_theme(key: str) -> Any:
    form = SplitThemeForm()
    if form.validate_on_submit():
        groups = [
            line.replace(",", " ").replace("，", " ").split() for line in (form.seeds.data or "").splitlines()
        ]
        try:
            with atomic():
                text_settings.split_theme(orm(), key, groups)
                rerun_text_analysis(g.user.id)
        except UserError as exc:
            flash_problems(exc)
        else:
            flash(_("Theme split; the analysis is re-run with your decision."), "success")
    return _back()


@bp.post("/demand/settings")
@require(Permission.MANAGE_TEXT_ANALYSIS)
def text_settings_save() -> Any:
    form = TextSettingsForm()
    if not form.validate_on_submit():
        flash(
            _("Please correct the highlighted fields.") + " " + "; ".join(sum(form.errors.values(), [])),
            "error",
        )
        return _back()
    try:
        with atomic():
            text_settings.update_settings(
                orm(),
                text_settings.SettingsUpdate(
                    user_words=(form.user_words.data or "").splitlines(),
                    theme_count=form.theme_count.data or 0,
                    min_customers=form.min_customers.data,
                    min_regions=form.min_regions.data,
                    review_threshold=form.review_threshold.data,
                ),
            )
    except UserError as exc:
        flash_problems(exc)
    else:
        flash(_("Text-analysis settings saved."), "success")
    return _back()


@bp.post("/demand/categories")
@require(Permission.MANAGE_TEXT_ANALYSIS)
def add_category() -> Any:
    form = CategoryForm()
    if form.validate_on_submit():
        try:
            with atomic():
                text_settings.add_category(
                    orm(), form.code.data or "", form.name_zh.data or "", form.name_en.data or ""
                )
        except UserError as exc:
            flash_problems(exc)
        else:
            flash(_("Category added."), "success")
    else:
        flash(_("Give the code and both names of the category."), "error")
    return _back()


@bp.get("/demand/review")
@require(Permission.VIEW_ANALYSIS)
def review() -> Any:
    filters, error = current_filters()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    groups = review_groups(orm(), filters)
    return render_template(
        "analysis/review.html",
        **page_context(
            filters,
            error,
            groups=groups[(page - 1) * 50 : page * 50],
            n_groups=len(groups),
            total=sum(g.size for g in groups),
            page=page,
            label_form=_label_form(),
            manage=can(Permission.MANAGE_TEXT_ANALYSIS),
            status=classifier_status(orm()),
            category_names={c.code: localized(c) for c in text_settings.categories(orm(), active_only=False)},
            sentiment_names={str(k): str(v) for k, v in SENTIMENT_LABELS.items()},
        ),
    )


@bp.post("/demand/review/label")
@require(Permission.MANAGE_TEXT_ANALYSIS)
def label_group() -> Any:
    """One label for a group of duplicate texts of the review queue."""
    form = _label_form()
    if form.validate_on_submit():
        ids = [int(i) for i in request.form.getlist("entry_ids") if i.isdigit()]
        try:
            with atomic():
                labelled = label_entries(
                    orm(),
                    ids,
                    category=form.category.data,
                    sentiment=form.sentiment.data,
                    user_id=g.user.id,
                    region_ids=region_scope(),
                )
        except UserError as exc:
            flash_problems(exc)
        else:
            flash(_("%(n)s texts labelled; they train the next run.", n=len(labelled)), "success")
    else:
        flash(_("Unknown category or sentiment."), "error")
    return redirect(request.form.get("next") or url_for("analysis.review"))


@bp.post("/demand/entries/<int:entry_id>/label")
@require(Permission.MANAGE_TEXT_ANALYSIS)
def label(entry_id: int) -> Any:
    entry = get_or_404(TextEntry, entry_id)
    form = _label_form()
    if form.validate_on_submit():
        try:
            with atomic():
                label_entry(
                    orm(),
                    entry,
                    category=form.category.data,
                    sentiment=form.sentiment.data,
                    user_id=g.user.id,
                )
        except UserError as exc:
            flash_problems(exc)
        else:
            flash(_("Label saved; it trains the next run."), "success")
    else:
        flash(_("Unknown category or sentiment."), "error")
    return redirect(request.form.get("next") or url_for("analysis.review"))


@bp.post("/demand/needs/send")
@require(Permission.MANAGE_TEXT_ANALYSIS, Permission.MANAGE_MARKET)
def send_need() -> Any:
    filters, _bad_filter = current_filters()  # shown on the page the form was sent from
    form = SendNeedForm()
    form.owner_id.choices = _owner_choices()
    if not form.validate_on_submit():
        flash(_("Choose a need to send."), "error")
        return _back()
    try:
        with atomic():
            opp = create_from_need(
                orm(),
                kind=form.kind.data or "",
                theme_key=form.theme_key.data or "",
                period_start=filters.start,
                period_end=filters.end,
                region_ids=region_scope(),
                created_by_id=g.user.id,
                owner_id=form.owner_id.data or None,
            )
    except UserError as exc:
        flash_problems(exc)
        return _back()
    flash(_("Sent to the market-expansion department."), "success")
    return redirect(url_for("analysis.opportunities", _anchor=f"opp-{opp.id}"))
