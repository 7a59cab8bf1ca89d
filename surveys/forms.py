"""Building the WTForms form for one page of a questionnaire, and reading answers back from it.

`build_page_form` makes one `QuestionField` per question shown on the page (indico's
`make_survey_form` pattern). Validation goes through `validate_answers` itself, so a form accepts
exactly what the pure validator accepts; each field receives the messages for its question in
the form's language. Nothing here is Flask-specific: the app passes Flask-WTF's `FlaskForm` as
`base` to get CSRF protection.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from wtforms import Form

from surveys.answers import AnswersError, check_page, normalise_answers, validate_answers
from surveys.defaults import SERVQUAL_PART_LABELS
from surveys.dump import dump_condition
from surveys.fields import QuestionField, answer_items, posted_answer
from surveys.logic import partially_evaluate, walk_answers
from surveys.model import OTHER, AllOf, Condition, Question, Questionnaire, ServqualPart
from surveys.text import LANGS, Lang, Message


class SurveyPageForm(Form):
    """Behaviour shared by every built page form; the class attributes are set by the builder."""

    survey_questionnaire: Questionnaire
    survey_page_index: int
    survey_lang: Lang
    survey_prior: Mapping[str, object]  # answers to the OTHER pages
    survey_questions: tuple[Question, ...]  # the questions that have a field, in page order
    _survey_error_cache: dict[str, list[Message]] | None = None
    _survey_blank_html: dict[str, Markup]  # blocks without the respondent's values, per class
    _survey_blank_page: Markup  # all blocks of an unanswered form, per class

    def validate(self, extra_validators: Any = None) -> bool:
        self._survey_error_cache = None
        return bool(super().validate(extra_validators=extra_validators))

    def survey_fields(self) -> list[QuestionField]:
        """The question fields, in page order (without CSRF or other fields of `base`)."""
        return [field for field in self if isinstance(field, QuestionField)]

    def survey_html(self) -> Markup:
        """The question blocks of the page, in order.

        A block with nothing of the respondent's in it (no answer, no "other" text, no error) is
        the same for every respondent of this form class, i.e. of one page of one definition
        version in one language with the same earlier answers: it is rendered once and kept on
        the class. Only the blocks holding the respondent's own values are rendered per request.
        """
        cls = type(self)
        blank = cls.__dict__.get("_survey_blank_html")
        if blank is None:
            blank = {}
            cls._survey_blank_html = blank
        parts = []
        for field in self.survey_fields():
            if field.data is None and not field.other_text and not field.errors:
                html = blank.get(field.name)
                if html is None:
                    html = blank[field.name] = field()
            else:
                html = field()
            parts.append(html)
        return Markup("".join(parts))  # noqa: S704 - blocks are Markup built by the widgets

    @classmethod
    def survey_blank_html(cls) -> Markup:
        """``survey_html`` of an unanswered form of this class, made once per class."""
        found = cls.__dict__.get("_survey_blank_page")
        if found is None:
            found = cls().survey_html()
            cls._survey_blank_page = found
        return found

    def survey_answers(self) -> dict[str, object]:
        """The submitted answers of this page as they came in (not yet coerced)."""
        answers: dict[str, object] = {}
        for field in self.survey_fields():
            answers.update(field.answer_items())
        return answers

    def survey_errors(self) -> dict[str, list[Message]]:
        """`validate_answers` for this page, on the other pages' answers plus this page's."""
        if self._survey_error_cache is None:
            merged = {**self.survey_prior, **self.survey_answers()}
            self._survey_error_cache = validate_answers(
                self.survey_questionnaire, merged, page=self.survey_page_index
            )
        return self._survey_error_cache


class _PageAnswers:
    """The field's validator: puts on it the messages `validate_answers` has for its question."""

    def __init__(self, question: Question, html_required: bool) -> None:
        self.question = question
        self.field_flags = {"required": True} if html_required else {}

    def __call__(self, form: SurveyPageForm, field: QuestionField) -> None:
        qid = self.question.id
        for key, found in form.survey_errors().items():
            if key != qid and not key.startswith(qid + "."):
                continue
            field.messages[key] = found
            prefix = _part_label(self.question, key.partition(".")[2], field.lang)
            sep = "：" if field.lang == "zh" else ": "
            field.errors.extend(
                f"{prefix}{sep}{m.get(field.lang)}" if prefix else m.get(field.lang) for m in found
            )


def _part_label(question: Question, part: str, lang: Lang) -> str:
    for row in question.rows:
        if row.id == part:
            return row.text.get(lang)
    if part in {p.value for p in ServqualPart}:
        return SERVQUAL_PART_LABELS[ServqualPart(part)].get(lang).split("：")[0].split(":")[0]
    return ""


def build_page_form(
    questionnaire: Questionnaire,
    page_index: int,
    lang: Lang,
    base: type[Form] = Form,
    *,
    answers: Mapping[str, object] | None = None,
) -> type[Form]:
    """A form class for page `page_index` in `lang` ("zh"/"en"), subclassing `base`.

    `answers` (optional) are the answers saved so far: those to other pages settle show-if
    conditions on them (questions they hide get no field), those to this page prefill it. A
    question whose condition reads a question on the same page is kept, with the rest of its
    condition as JSON in `data-show-if` on its block, and is checked only if the condition holds.
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    page = questionnaire.pages[page_index]
    given = dict(answers or {})
    own = {question.id for question in page.questions}
    prior = {key: value for key, value in given.items() if str(key).partition(".")[0] not in own}
    walk = walk_answers(questionnaire, prior)
    known = {question.id for question in questionnaire.questions()} - own
    attributes: dict[str, Any] = {
        "survey_questionnaire": questionnaire,
        "survey_page_index": page_index,
        "survey_lang": lang,
        "survey_prior": prior,
    }
    with_field: list[Question] = []
    for question in page.questions:
        condition = _combined(page.show_if, question.show_if)
        left = (
            True if condition is None else partially_evaluate(condition, known, walk.values, walk.other_texts)
        )
        if left is False:
            continue
        html_required = question.required and left is True
        with_field.append(question)
        attributes[question.id] = QuestionField(
            label=question.text.get(lang),
            validators=[_PageAnswers(question, html_required)],
            question=question,
            lang=lang,
            html_required=html_required,
            show_if=None if left is True else json.dumps(dump_condition(left), ensure_ascii=False),
            default=given.get(question.id),
            other_default=_str_or_none(given.get(f"{question.id}.{OTHER}")),
            description=question.help.get(lang) if question.help else "",
        )
    attributes["survey_questions"] = tuple(with_field)
    bases = (SurveyPageForm, base) if base is not Form else (SurveyPageForm,)
    metaclass: Any = type(base)  # FormMeta, or the base's own metaclass
    form_class: type[Form] = metaclass(f"{questionnaire.id}_page_{page_index}_form", bases, attributes)
    return form_class


def _combined(page_condition: Condition | None, question_condition: Condition | None) -> Condition | None:
    if page_condition is None or question_condition is None:
        return page_condition or question_condition
    return AllOf((page_condition, question_condition))


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def form_data_to_answers(questionnaire: Questionnaire, page_index: int, form: Form) -> dict[str, object]:
    """The page's answers from a (validated) built form, coerced as `normalise_answers` stores them.

    Answers to questions hidden by the submitted values are dropped. Merge the result into the
    saved answers (replacing this page's keys), then `normalise_answers` the whole response.
    Raises `AnswersError` if a value cannot be coerced (i.e. the form was not valid).
    """
    if not isinstance(form, SurveyPageForm) or form.survey_questionnaire != questionnaire:
        raise ValueError("form was not built by build_page_form for this questionnaire")
    if form.survey_page_index != page_index:
        raise ValueError(f"form is for page {form.survey_page_index}, not {page_index}")
    merged = {**form.survey_prior, **form.survey_answers()}
    own = {question.id for question in questionnaire.pages[page_index].questions}
    clean = normalise_answers(questionnaire, merged)
    return {key: value for key, value in clean.items() if key.partition(".")[0] in own}


@dataclass(frozen=True)
class PageRead:
    """A posted page read without binding a form (``read_page``).

    ``valid`` is what ``form.validate()`` of the built form would say; ``clean`` is then what
    ``form_data_to_answers`` would return (the page's answers, normalised), else None."""

    answers: dict[str, object]  # the page's answers as submitted (blank ones left out)
    valid: bool
    clean: dict[str, object] | None


def read_page(form_class: type[Form], formdata: Any) -> PageRead:
    """Read and check a posted page with ONE pass of the validator over the answers.

    The same reading as the fields of ``form_class`` (``posted_answer``) and the same checks as
    their validators (``validate_answers`` on the other pages' answers plus this page's): a page
    that passes needs no form object at all; one that fails is bound to a form only to be shown
    again with its errors. Raises ``AnswersError`` where ``form_data_to_answers`` would."""
    if not issubclass(form_class, SurveyPageForm):
        raise ValueError("form class was not built by build_page_form")
    questionnaire, page_index = form_class.survey_questionnaire, form_class.survey_page_index
    answers: dict[str, object] = {}
    for question in form_class.survey_questions:
        name = question.id
        data, other_text = posted_answer(question, name, formdata.getlist(name), formdata)
        answers.update(answer_items(question, data, other_text))
    merged = {**form_class.survey_prior, **answers}
    errors, clean = check_page(questionnaire, merged, page_index)
    for question in form_class.survey_questions:
        qid = question.id
        if any(key == qid or key.startswith(qid + ".") for key in errors):
            return PageRead(answers, False, None)
    if clean is None:
        normalise_answers(questionnaire, merged)  # raises the AnswersError naming the problems
        raise AnswersError({})  # pragma: no cover - normalise_answers has just raised
    own = {question.id for question in questionnaire.pages[page_index].questions}
    mine = {key: value for key, value in clean.items() if key.partition(".")[0] in own}
    return PageRead(answers, True, mine)
