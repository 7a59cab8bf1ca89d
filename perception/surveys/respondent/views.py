"""The respondent's pages.

Each request is one transaction (``perception.core.transaction``): POSTs are writers; the GETs
read, except opening a personal link, which records the opening (``@writes``) and, for an unknown
token, the guess that counts against the address (``keep_writes``: kept although the page is a 404).
The personal and test links' pages run Core statements only, on the request's Core
``connection()``: no ORM Session is built, used and closed for them (issue 19). The anonymous link
and the unsubscribe page use the Session.
The answer POST reads the settings once and does no SELECT before its first write for a
one-page survey (the hot path, see bench/bench_answer.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, g, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from markupsafe import Markup

from perception.core.clock import Clock, current_clock
from perception.core.extensions import orm
from perception.core.i18n import lang_code
from perception.core.models.org import Contact
from perception.core.periods import local_date
from perception.core.transaction import connection, keep_writes, writes
from perception.surveys.respondent import bp, page_cache
from perception.surveys.respondent.flow import PagePost, Step, first_page, read_post, render_page
from perception.surveys.respondent.forms import UnsubscribeForm
from perception.surveys.services import anonymous_drafts, test_links
from perception.surveys.services import invitations as surveys_invitations
from perception.surveys.services import submit as surveys_submit
from perception.surveys.services import tokens as surveys_tokens
from perception.surveys.services.about import example_about, ticket_about
from perception.surveys.services.definitions import cached_questionnaire, parsed, version_fingerprint
from perception.surveys.services.progress import (
    Availability,
    anonymous_campaign,
    draft_answers,
    personal_state,
)
from perception.surveys.services.settings import SurveySettings
from perception.surveys.services.store import AnswersInvalid, check_answers
from perception.surveys.services.test_links import TrialOutcome
from perception.surveys.services.tokens import LinkOutcome
from surveys import Questionnaire, survey_stylesheet

PERSONAL = "survey_link"  # {"i": invitation, "v": version, "f": fingerprint, "t": opened (epoch s)}
ANONYMOUS = "survey_anon"  # {"c": campaign, "d": the draft's key (services/anonymous_drafts), "t": started}


@bp.before_request
def _respondent() -> None:
    g.audit_actor_name = "respondent"


def _message(kind: str, status: int, **values: Any) -> Any:
    return render_template("public/message.html", kind=kind, **values), status


def _invalid() -> Any:
    return _message("invalid", 404)


def _unavailable(state: str, closes_at: Any = None, opens_at: Any = None) -> Any:
    if state == Availability.CLOSED:
        return _message("closed", 410, closes_at=closes_at)
    if state == Availability.NOT_YET:
        return _message("not_yet", 200, opens_at=opens_at)
    if state == Availability.USED:
        return _message("used", 200)
    return _invalid()


def _respond_url() -> str:
    """``url_for("public.respond")`` without the URL map: every survey page and POST names it."""
    return f"{request.script_root}{bp.url_prefix or ''}/r"


def _see_other(location: str) -> Response:
    """A bare 303 (no HTML body, as ``_done``): the browser never shows one."""
    return Response(status=303, headers={"Location": location})


def _done(version_id: int, fingerprint: str) -> Any:
    # The version rides in the URL, not the session: saving the cookie again would cost the
    # answer endpoint a signature for nothing secret.
    # A bare 303 (no HTML body): the browser never shows one, and building it costs every answer.
    # The fingerprint rides along too: the thank-you page finds the title in the process's cache
    # of parsed versions (keyed by both) without a query.
    location = f"{request.script_root}/s/done?v={version_id}&f={fingerprint}"
    return Response(status=303, headers={"Location": location})


@bp.errorhandler(CSRFError)
def _expired_form(exc: CSRFError) -> Any:
    return _message("expired", 400)


@bp.get("/engine.css")
def engine_css() -> Any:
    response = Response(survey_stylesheet(), mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def _settings() -> SurveySettings:
    return SurveySettings.from_config(current_app.config)


@bp.get("/t/<token>")
@writes
def open_link(token: str) -> Any:
    """Swap the link's token for a session and redirect to a URL without it. Never consumes it."""
    now = current_clock().now()
    address = request.remote_addr or "unknown"
    db = connection()
    check = surveys_tokens.check_link(db, token, now)
    if check.outcome == LinkOutcome.UNKNOWN:
        trial = test_links.check_test_link(db, token, now)
        if trial.outcome == TrialOutcome.OK:  # an owner's test link: the same pages, kept apart
            assert trial.link_id is not None
            test_links.mark_opened(db, trial.link_id, now)
            session[PERSONAL] = {"x": trial.link_id, "v": trial.version_id, "f": trial.fingerprint,
                                 "t": time.time()}  # fmt: skip
            return _see_other(_respond_url())
        if trial.outcome == TrialOutcome.INVALID:
            return _invalid()
        # A guess: counted (atomically, kept although the answer is a 404 or 429) per address.
        keep_writes()
        if surveys_tokens.note_guess(db, address, now, _settings()):
            return _message("throttled", 429)
        return _invalid()
    if check.outcome == LinkOutcome.INVALID:  # used or expired: the respondent's own link, no guess
        return _invalid()
    if check.outcome != LinkOutcome.OK:
        return _unavailable(check.outcome, check.closes_at, check.opens_at)
    assert check.invitation_id is not None and check.version_id is not None
    surveys_tokens.mark_opened(db, check.invitation_id, now)
    current = session.get(PERSONAL) or {}
    started = current.get("t") if current.get("i") == check.invitation_id else None
    session[PERSONAL] = {
        "i": check.invitation_id,
        "v": check.version_id,
        "f": check.fingerprint,
        "t": started or time.time(),
    }
    return _see_other(_respond_url())


def _personal() -> tuple[dict[str, Any], Questionnaire] | None:
    state = session.get(PERSONAL)
    if not isinstance(state, dict) or not all(k in state for k in ("v", "f")):
        return None
    if "i" not in state and "x" not in state:
        return None
    questionnaire = _questionnaire(int(state["v"]), str(state["f"]))
    return (state, questionnaire) if questionnaire is not None else None


def _questionnaire(version_id: int, fingerprint: str) -> Questionnaire | None:
    """The parsed version from the process's cache, or read on the request's connection."""
    return parsed(version_id, fingerprint) or cached_questionnaire(connection(), version_id, fingerprint)


@bp.route("/r", methods=["GET", "POST"])
def respond() -> Any:
    """The personal survey, one page at a time; answers are saved after each page."""
    found = _personal()
    if found is None:
        return _invalid()
    state, q = found
    if "x" in state:
        return _respond_test(state, q)
    invitation_id, key = int(state["i"]), (int(state["v"]), str(state["f"]))
    clock = current_clock()
    if request.method == "GET":
        current = personal_state(connection(), invitation_id, clock.now())
        if current.availability != Availability.OPEN:
            return _unavailable(current.availability, current.closes_at, current.opens_at)
        page = first_page(q, current.answers, current.page)
        about = _about(invitation_id) if current.ticket_id is not None else None  # no query otherwise
        return render_page(q, key, page, current.answers, action=_respond_url(), about=about)
    # A one-page survey has no other pages' answers to read: the common POST does no SELECT.
    answers = draft_answers(connection(), invitation_id) if len(q.pages) > 1 else {}
    settings = _settings()
    post = read_post(q, key, answers, state.get("t"), settings.min_fill_seconds)
    if post.step == Step.SUBMIT:
        return _submit_personal(q, key, invitation_id, post, clock, settings)
    return _after_page(
        post,
        q,
        answers,
        lambda merged, page: surveys_submit.save_draft(
            connection(), invitation_id, merged, page, clock.now()
        ),
        _respond_url(),
        key,
        about=lambda: _about(invitation_id),
    )


def _respond_test(state: dict[str, Any], q: Questionnaire) -> Any:
    """A test link: the personal pages exactly, with the answers kept on the test link's row
    (``services.test_links``) instead of becoming a response."""
    link_id, key = int(state["x"]), (int(state["v"]), str(state["f"]))
    now = current_clock().now()
    current = test_links.state_of(connection(), link_id, now)
    if not current.open:
        return _message("used", 200) if current.used else _message("closed", 410)
    here = _respond_url()
    if request.method == "GET":
        page = first_page(q, current.answers, current.page)
        return render_page(
            q, key, page, current.answers, action=here, about=_example_about(current.campaign_id)
        )
    answers = current.answers if len(q.pages) > 1 else {}
    post = read_post(q, key, answers, state.get("t"), _settings().min_fill_seconds)
    if post.step == Step.SUBMIT:
        try:
            clean = post.merged if len(q.pages) == 1 else check_answers(q, post.merged)
        except AnswersInvalid:
            return _see_other(here)
        if not test_links.submit_test(connection(), link_id, clean, post.lang, now):
            return _message("used", 200)
        return _done(*key)
    return _after_page(
        post,
        q,
        answers,
        lambda merged, page: test_links.save_test_draft(connection(), link_id, merged, page, now),
        here,
        key,
        about=lambda: _example_about(current.campaign_id),
    )


def _example_about(campaign_id: int | None) -> Markup | None:
    """A test of a post-ticket campaign shows the ticket line with an example ticket."""
    found = example_about(connection(), campaign_id, current_clock().today()) if campaign_id else None
    return found.html(lang_code()) if found is not None else None


def _about(invitation_id: int) -> Markup | None:
    """The ticket line of a post-ticket invitation, in the page's language (None for others)."""
    found = ticket_about(connection(), invitation_id, current_clock().timezone)
    return found.html(lang_code()) if found is not None else None


def _after_page(
    post: PagePost,
    q: Questionnaire,
    answers: dict[str, object],
    save: Any,
    here: str,
    key: tuple[int, str],
    *,
    about: Callable[[], Markup | None] | None = None,
) -> Any:
    if post.step == Step.RESTART:
        return _see_other(here)
    if post.step == Step.BOT:
        return _done(*key)
    if post.step == Step.SHOW:
        shown = post.merged or answers
        return render_page(
            q,
            key,
            post.page,
            shown,
            action=here,
            form=post.form,
            nonce=post.nonce,
            notice=post.notice,
            status=200 if post.notice else 422,
            about=about() if about is not None else None,
        )
    assert post.target is not None
    save(post.merged, post.target)
    return _see_other(here)


def _submit_personal(
    q: Questionnaire,
    key: tuple[int, str],
    invitation_id: int,
    post: PagePost,
    clock: Clock,
    settings: SurveySettings,
) -> Any:
    try:
        # One page: the page form has already validated the whole response.
        clean = post.merged if len(q.pages) == 1 else check_answers(q, post.merged)
    except AnswersInvalid:
        return _see_other(_respond_url())  # an earlier page needs answers: go there
    result = surveys_submit.submit_personal(
        connection(), invitation_id=invitation_id, questionnaire=q, version_id=key[0], clean=clean,
        nonce=post.nonce, language=post.lang, now=clock.now(), org_timezone=clock.timezone,
        settings=settings,
    )  # fmt: skip
    if result.outcome in (surveys_submit.Outcome.STORED, surveys_submit.Outcome.DUPLICATE):
        return _done(*key)
    if result.outcome == surveys_submit.Outcome.USED:
        return _message("used", 200)
    return _message("closed", 410)


@bp.route("/a/<slug>", methods=["GET", "POST"])
def anonymous(slug: str) -> Any:
    """The anonymous link: answers so far are kept on the server under an opaque key that only the
    respondent's cookie holds (``anonymous_drafts``), never with anything naming the person."""
    clock = current_clock()
    now = clock.now()
    campaign = anonymous_campaign(orm(), slug, now)
    if campaign is None:
        return _invalid()
    if campaign.availability != Availability.OPEN:
        return _unavailable(campaign.availability, campaign.closes_at, campaign.opens_at)
    key = (campaign.facts.version_id, campaign.fingerprint)
    q = cached_questionnaire(orm(), *key)
    if q is None:
        return _invalid()
    state = session.get(ANONYMOUS)
    if not isinstance(state, dict) or state.get("c") != campaign.facts.id:
        state = {"c": campaign.facts.id, "t": time.time()}
        session[ANONYMOUS] = state
    # The cookie holds only the draft's opaque key; the answers so far are on the server.
    answers, page = anonymous_drafts.load(orm(), state.get("d"), campaign.facts.id)
    here = url_for("public.anonymous", slug=slug)
    if request.method == "GET":
        return render_page(q, key, first_page(q, answers, page), answers, action=here)
    settings = _settings()
    post = read_post(q, key, answers, state.get("t"), settings.min_fill_seconds)
    if post.step != Step.SUBMIT:

        def save(merged: dict[str, object], page: int) -> None:
            draft = state.get("d") if isinstance(state.get("d"), str) else None
            if draft is None:
                draft = anonymous_drafts.new_key()
                session[ANONYMOUS] = {**state, "d": draft}
            anonymous_drafts.save(
                orm(), draft, campaign.facts.id, merged, page, local_date(now, clock.timezone)
            )

        return _after_page(post, q, answers, save, here, key)
    try:
        # One page: the page's validation was the whole response's (as for a personal link).
        clean = post.merged if len(q.pages) == 1 else check_answers(q, post.merged)
    except AnswersInvalid:
        return _see_other(here)
    surveys_submit.submit_anonymous(
        orm(), campaign=campaign.facts, questionnaire=q, clean=clean, nonce=post.nonce,
        language=post.lang, now=now, org_timezone=clock.timezone, settings=settings,
    )  # fmt: skip
    anonymous_drafts.discard(orm(), state.get("d"))
    session.pop(ANONYMOUS, None)
    return _done(*key)


@bp.get("/done")
def thanks() -> Any:
    version_id = request.args.get("v", type=int)
    fingerprint = request.args.get("f", "")[:64] or None
    if version_id and not fingerprint:  # a link from before the fingerprint rode along
        fingerprint = version_fingerprint(connection(), version_id)
    q = _questionnaire(version_id, fingerprint) if version_id and fingerprint else None
    lang = lang_code()
    key = ("thanks", version_id if q else None, fingerprint if q else None, lang, request.path)
    return page_cache.filled(
        key, lambda **marks: render_template("public/thanks.html", q=q, lang=lang, **marks)
    )


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> Any:
    """Unsubscribe from surveys: GET asks, POST does (mail scanners open links, they don't post)."""
    contact_id = surveys_tokens.read_unsubscribe_token(_settings().secret_key, token)
    contact = orm().get(Contact, contact_id) if contact_id is not None else None
    if contact is None:
        return _invalid()
    form = UnsubscribeForm()
    if form.validate_on_submit():
        surveys_invitations.unsubscribe(orm(), contact, current_clock().now())
        return _message("unsubscribed", 200)
    return render_template("public/unsubscribe.html", form=form, done=contact.unsubscribed_at is not None)
