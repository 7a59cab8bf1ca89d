"""One page at a time: building, reading and rendering a survey page, shared by personal and
anonymous links.

A POST is read into a ``PagePost`` that says what happens next: show the page again (errors,
too fast), go back, go to the next page, or submit. Pages after the current one may depend on
its answers, so whether a POST is the final submission is decided from the merged answers
(``surveys.next_page``), not from the button.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any, cast

from flask import render_template, request
from markupsafe import Markup
from wtforms import Form

from perception.core.i18n import lang_code
from perception.surveys.respondent import page_cache
from perception.surveys.respondent.forms import HONEYPOT, new_nonce, valid_nonce
from surveys import (
    OTHER,
    Lang,
    Questionnaire,
    build_page_form,
    next_page,
    previous_page,
    read_page,
    shown_pages,
)

_FORMS: dict[tuple[tuple[int, str], int, str], type[Form]] = {}


class Step(enum.StrEnum):
    SHOW = "show"  # render the page again (errors, expired form, too fast)
    BACK = "back"
    NEXT = "next"
    SUBMIT = "submit"
    BOT = "bot"  # honeypot filled: pretend success, store nothing
    RESTART = "restart"  # the posted page is not one these answers show


@dataclass
class PagePost:
    step: Step
    page: int
    form: Any = None
    merged: dict[str, object] = field(default_factory=dict)
    target: int | None = None
    nonce: str = ""
    notice: str | None = None
    lang: Lang = "en"  # the page's language, stored with the response


def page_form(
    questionnaire: Questionnaire,
    version_key: tuple[int, str],
    page: int,
    lang: Lang,
    answers: dict[str, object],
) -> type[Form]:
    """The page's form class. Without saved answers it depends only on (version, page, lang) and
    is cached: building a class per request would cost more than the rest of the POST."""
    if answers:
        return build_page_form(questionnaire, page, lang, answers=answers)
    key = (version_key, page, lang)
    cls = _FORMS.get(key)
    if cls is None:
        if len(_FORMS) > 1024:
            _FORMS.clear()
        cls = _FORMS[key] = build_page_form(questionnaire, page, lang)
    return cls


def _single(questionnaire: Questionnaire) -> bool:
    return len(questionnaire.pages) == 1 and questionnaire.pages[0].show_if is None


def own_keys(questionnaire: Questionnaire, page: int) -> set[str]:
    return {q.id for q in questionnaire.pages[page].questions}


def others(questionnaire: Questionnaire, page: int, answers: dict[str, object]) -> dict[str, object]:
    own = own_keys(questionnaire, page)
    return {k: v for k, v in answers.items() if k.partition(".")[0] not in own}


def first_page(questionnaire: Questionnaire, answers: dict[str, object], wanted: int | None) -> int:
    if _single(questionnaire):
        return 0
    shown = shown_pages(questionnaire, answers)
    if wanted is not None and wanted in shown:
        return wanted
    return shown[0] if shown else 0


def read_post(
    questionnaire: Questionnaire,
    version_key: tuple[int, str],
    answers: dict[str, object],
    started: float | None,
    min_fill_seconds: float,
) -> PagePost:
    """Read the POSTed page against the answers saved so far. A submission sooner than
    ``min_fill_seconds`` after ``started`` (epoch seconds) is shown again to be checked."""
    try:
        page = int(request.form.get("page", ""))
    except ValueError:
        return PagePost(Step.RESTART, 0)
    # One unconditional page (the usual CSAT form): no walk over the answers to find the pages.
    single = _single(questionnaire)
    prior = others(questionnaire, page, answers) if 0 <= page < len(questionnaire.pages) else {}
    if page != 0 if single else page not in shown_pages(questionnaire, prior):
        return PagePost(Step.RESTART, page)
    lang = cast(Lang, lang_code())
    form_class = page_form(questionnaire, version_key, page, lang, prior)
    posted = request.form.get("submission_nonce")
    nonce = posted if posted is not None and valid_nonce(posted) else new_nonce()
    if request.form.get(HONEYPOT):
        return PagePost(Step.BOT, page, nonce=nonce)
    # One pass of the validator over the posted page; a form is bound only to show it again.
    read = read_page(form_class, request.form)
    if request.form.get("action") == "back":
        merged = {**prior, **(read.clean or {})}
        target = previous_page(questionnaire, merged, page)
        return PagePost(Step.BACK, page, None, merged, page if target is None else target, nonce)
    if read.clean is None:
        return PagePost(Step.SHOW, page, _shown_form(form_class), nonce=nonce)
    merged = {**prior, **read.clean}
    target = None if single else next_page(questionnaire, merged, page)
    if target is not None:
        return PagePost(Step.NEXT, page, None, merged, target, nonce)
    if started is not None and time.time() - started < min_fill_seconds:
        from flask_babel import gettext as _

        notice = _("Please take a moment to check your answers, then press Submit again.")
        return PagePost(Step.SHOW, page, _shown_form(form_class), merged, None, nonce, notice)
    return PagePost(Step.SUBMIT, page, None, merged, None, nonce, lang=lang)


def _shown_form(form_class: type[Form]) -> Any:
    """The posted page bound to its form and validated, to be shown again with its errors."""
    form = form_class(request.form)
    form.validate()
    return form


def fresh_form(
    questionnaire: Questionnaire,
    version_key: tuple[int, str],
    page: int,
    lang: Lang,
    answers: dict[str, object],
) -> Any:
    """The page's form filled with the respondent's answers to it. The class comes from
    ``page_form`` (cached when no other page's answers shape it), so the blocks the respondent has
    not answered render from the class's cache (``SurveyPageForm.survey_html``)."""
    prior = others(questionnaire, page, answers) if len(answers) else {}
    form = page_form(questionnaire, version_key, page, lang, prior)()
    if len(prior) != len(answers):
        for field in form.survey_fields():
            field.data = answers.get(field.question.id)
            other = answers.get(f"{field.question.id}.{OTHER}")
            field.other_text = other if isinstance(other, str) else None
    return form


def render_page(
    questionnaire: Questionnaire,
    version_key: tuple[int, str],
    page: int,
    answers: dict[str, object],
    *,
    action: str,
    form: Any = None,
    nonce: str = "",
    notice: str | None = None,
    status: int = 200,
    about: Markup | None = None,
) -> Any:
    """Render page ``page`` (a fresh form prefilled with ``answers``, or ``form`` with errors);
    ``about`` is the respondent's own ticket line (escaped Markup), put in per request."""
    lang = cast(Lang, lang_code())
    fields = None
    if form is None and not answers:  # nothing of the respondent's: the blocks are the class's
        cls: Any = page_form(questionnaire, version_key, page, lang, {})
        fields = cls.survey_blank_html()
    elif form is None:
        form = fresh_form(questionnaire, version_key, page, lang, answers)
    if _single(questionnaire):
        position, shown, last = 1, [page], True
    else:
        shown = list(shown_pages(questionnaire, answers)) or [page]
        if page not in shown:
            shown = sorted({*shown, page})
        position = shown.index(page) + 1
        last = next_page(questionnaire, answers, page) is None
    context = {
        "q": questionnaire, "page": questionnaire.pages[page], "page_index": page, "lang": lang,
        "form": form, "honeypot": HONEYPOT, "position": position, "total": len(shown),
        "first": position == 1, "last": last, "action": action, "notice": notice,
    }  # fmt: skip
    nonce = nonce or new_nonce()
    if form is not None and (notice or form.errors):
        body = render_template(
            "public/page.html", nonce=nonce, fields=form.survey_html(), about=about, **context
        )
    else:
        # The same page for every respondent but for the token, nonce and answered blocks.
        key = ("page", version_key, page, lang, position, len(shown), last, action, request.path)
        body = page_cache.filled(
            key,
            lambda **marks: render_template("public/page.html", **context, **marks),
            nonce=nonce,
            fields=fields if form is None else form.survey_html(),
            about=about,
        )
    return body, status
