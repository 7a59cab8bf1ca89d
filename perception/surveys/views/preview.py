"""Preview and test links (issue 17, as LimeSurvey and Formbricks give them).

- Preview: a version (or a campaign) shown in Chinese and English in two phone-wide frames, each
  the respondent's own page from the same renderer and page cache (``respondent.flow``). The
  frames can be clicked through; answers given there stay in the owner's session and nothing is
  stored.
- Test link: a single-use, expiring link through the real respondent pages whose answers are kept
  apart (``services.test_links``) and listed here, never counted anywhere.

Who may: viewing surveys to preview, managing surveys to make test links; a campaign of another
region answers 404 as everywhere.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import force_locale

from perception.core.authz import Permission, can, get_or_404, require
from perception.core.clock import current_clock
from perception.core.extensions import orm
from perception.core.i18n import lang_code
from perception.core.transaction import atomic
from perception.surveys.forms import ActionForm
from perception.surveys.models import Campaign, SurveyVersion
from perception.surveys.respondent import page_cache
from perception.surveys.respondent.flow import Step, first_page, read_post, render_page
from perception.surveys.services import test_links
from perception.surveys.services.about import example_about
from perception.surveys.services.definitions import cached_questionnaire
from perception.surveys.services.settings import SurveySettings
from perception.surveys.services.store import AnswersInvalid, check_answers
from perception.surveys.views import bp
from perception.web.request_hooks import CSP

LANGS = {"zh": "zh_CN", "en": "en"}
PREVIEW = "survey_preview"  # {"k": which frame, "a": answers so far, "p": page}: the owner's session only
MAX_KEPT = 1500  # characters of answers kept in the session cookie; longer texts are not carried on
FRAME_CSP = CSP.replace("frame-ancestors 'none'", "frame-ancestors 'self'")


def _target(version_id: int | None, campaign_id: int | None) -> tuple[SurveyVersion, Campaign | None]:
    if campaign_id is not None:
        campaign = get_or_404(Campaign, campaign_id)
        return campaign.version, campaign
    assert version_id is not None
    return get_or_404(SurveyVersion, version_id), None


def _page(version: SurveyVersion, campaign: Campaign | None, *, new_link: str | None = None) -> Any:
    manage = can(Permission.MANAGE_SURVEYS)
    links = (
        test_links.links_of(orm(), version_id=version.id, campaign_id=campaign.id if campaign else None)
        if manage
        else []
    )
    frames = {
        lang: url_for("surveys.campaign_preview_frame", campaign_id=campaign.id, lang=lang)
        if campaign
        else url_for("surveys.version_preview_frame", version_id=version.id, lang=lang)
        for lang in LANGS
    }
    create = (
        url_for("surveys.campaign_test_link", campaign_id=campaign.id)
        if campaign
        else url_for("surveys.version_test_link", version_id=version.id)
    )
    return render_template(
        "surveys/preview.html", version=version, campaign=campaign, frames=frames, links=links,
        q=cached_questionnaire(orm(), version.id, version.fingerprint), manage=manage,
        action_form=ActionForm(), create=create, new_link=new_link, lang=lang_code(),
    )  # fmt: skip


@bp.get("/versions/<int:version_id>/preview")
@require(Permission.VIEW_SURVEYS)
def version_preview(version_id: int) -> Any:
    version, _ = _target(version_id, None)
    return _page(version, None)


@bp.get("/campaigns/<int:campaign_id>/preview")
@require(Permission.VIEW_SURVEYS)
def campaign_preview(campaign_id: int) -> Any:
    version, campaign = _target(None, campaign_id)
    return _page(version, campaign)


def _framed(body: Any, status: int = 200) -> Response:
    """A preview frame may be shown in a frame of this site only (every other page: nowhere)."""
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = FRAME_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _kept(answers: dict[str, object]) -> dict[str, object]:
    """What of the preview's answers fits the session cookie (answers are never stored)."""
    if len(json.dumps(answers, ensure_ascii=False)) <= MAX_KEPT:
        return answers
    return {k: v for k, v in answers.items() if not isinstance(v, str) or len(v) <= 40}


def _frame(version: SurveyVersion, campaign: Campaign | None, lang: str) -> Any:
    if lang not in LANGS:
        abort(404)
    q = cached_questionnaire(orm(), version.id, version.fingerprint)
    if q is None:
        abort(404)
    key = (version.id, version.fingerprint)
    frame = f"{version.id}:{campaign.id if campaign else ''}:{lang}"
    here = request.path
    with force_locale(LANGS[lang]):
        about_line = example_about(orm(), campaign.id, current_clock().today()) if campaign else None
        about = about_line.html(lang) if about_line is not None else None
        if request.args.get("done"):
            page_key = ("thanks-preview", version.id, version.fingerprint, lang)
            body = page_cache.filled(
                page_key, lambda **marks: render_template("public/thanks.html", q=q, lang=lang, **marks)
            )
            return _framed(body)
        kept = session.get(PREVIEW) if isinstance(session.get(PREVIEW), dict) else None
        answers: dict[str, object] = dict(kept["a"]) if kept and kept.get("k") == frame else {}
        saved_page = kept.get("p") if kept and kept.get("k") == frame else None
        if request.method == "GET":
            if request.args.get("restart"):
                session.pop(PREVIEW, None)
                answers, saved_page = {}, None
            body, status = render_page(
                q, key, first_page(q, answers, saved_page), answers, action=here, about=about
            )
            return _framed(body, status)
        post = read_post(q, key, answers, None, 0.0)
        if post.step in (Step.SUBMIT, Step.BOT):
            try:
                if post.step == Step.SUBMIT:
                    check_answers(q, post.merged)
            except AnswersInvalid:
                return redirect(here, 303)
            session.pop(PREVIEW, None)  # nothing is stored: the preview ends on the thank-you page
            return redirect(f"{here}?done=1", 303)
        if post.step == Step.RESTART:
            return redirect(here, 303)
        if post.step == Step.SHOW:
            body, status = render_page(
                q, key, post.page, post.merged or answers, action=here, form=post.form, nonce=post.nonce,
                notice=post.notice, status=200 if post.notice else 422, about=about,
            )  # fmt: skip
            return _framed(body, status)
        session[PREVIEW] = {"k": frame, "a": _kept(post.merged), "p": post.target}
        return redirect(here, 303)


@bp.route("/versions/<int:version_id>/preview/<lang>", methods=["GET", "POST"])
@require(Permission.VIEW_SURVEYS)
def version_preview_frame(version_id: int, lang: str) -> Any:
    version, _ = _target(version_id, None)
    return _frame(version, None, lang)


@bp.route("/campaigns/<int:campaign_id>/preview/<lang>", methods=["GET", "POST"])
@require(Permission.VIEW_SURVEYS)
def campaign_preview_frame(campaign_id: int, lang: str) -> Any:
    version, campaign = _target(None, campaign_id)
    return _frame(version, campaign, lang)


def _make_link(version: SurveyVersion, campaign: Campaign | None) -> Any:
    back = (
        url_for("surveys.campaign_preview", campaign_id=campaign.id)
        if campaign
        else url_for("surveys.version_preview", version_id=version.id)
    )
    if not ActionForm().validate_on_submit():
        return redirect(back)
    settings = SurveySettings.from_config(current_app.config)
    with atomic():
        _, token = test_links.create_test_link(
            orm(), version, campaign, user_id=g.user.id, now=current_clock().now(), settings=settings
        )
    # Shown once, on this answer only (like a real link, the token is stored as a hash).
    return _page(version, campaign, new_link=f"{settings.public_base_url}/s/t/{token}")


@bp.post("/versions/<int:version_id>/test-links")
@require(Permission.MANAGE_SURVEYS)
def version_test_link(version_id: int) -> Any:
    version, _ = _target(version_id, None)
    return _make_link(version, None)


@bp.post("/campaigns/<int:campaign_id>/test-links")
@require(Permission.MANAGE_SURVEYS)
def campaign_test_link(campaign_id: int) -> Any:
    version, campaign = _target(None, campaign_id)
    return _make_link(version, campaign)
