"""Validating and normalising a whole set of answers against a questionnaire.

Pure functions over a plain mapping of answers (shapes in `surveys.answer_checks`). Hidden
(show-if false) questions are never required and their answers are ignored by validation and
dropped by `normalise_answers`.
"""

from __future__ import annotations

from collections.abc import Mapping

from surveys import messages
from surveys.logic import Walk, walk_answers
from surveys.model import CHOICE_TYPES, OTHER, Questionnaire
from surveys.text import Message


class AnswersError(ValueError):
    """Answers whose values cannot be coerced; `errors` is keyed like `validate_answers`' result."""

    def __init__(self, errors: dict[str, list[Message]]) -> None:
        self.errors = errors
        detail = "; ".join(f"{key}: {', '.join(m.en for m in found)}" for key, found in errors.items())
        super().__init__(f"invalid answers: {detail}")


def validate_answers(
    questionnaire: Questionnaire, answers: Mapping[str, object], page: int | None = None
) -> dict[str, list[Message]]:
    """Problems with `answers`, keyed by question id or "question_id.sub"; empty when acceptable.

    Checks types, ranges, choice membership, "other" text when "other" is chosen, matrix rows,
    both parts of a SERVQUAL pair, required-when-shown and page totals. With `page` (an index),
    only that page's questions are checked; keys naming no question are reported either way.
    """
    return _errors(questionnaire, answers, walk_answers(questionnaire, answers), page)


def _errors(
    questionnaire: Questionnaire, answers: Mapping[str, object], walk: Walk, page: int | None
) -> dict[str, list[Message]]:
    pages = range(len(questionnaire.pages)) if page is None else [page]
    in_scope = {question.id for index in pages for question in questionnaire.pages[index].questions}
    errors: dict[str, list[Message]] = {}
    for question in walk.shown:
        if question.id in in_scope:
            for key, found in walk.checked[question.id].errors.items():
                errors.setdefault(key, []).extend(found)
    for index in pages:
        _check_totals(questionnaire, index, walk, errors)
    for key in _unknown_keys(questionnaire, answers):
        errors.setdefault(key, []).append(messages.unknown_question())
    return errors


def normalise_answers(questionnaire: Questionnaire, answers: Mapping[str, object]) -> dict[str, object]:
    """The answers as they should be stored: canonical types, shown questions only, no blanks.

    Unknown keys, answers to hidden questions, blank answers and "other" text without "other"
    chosen are dropped. Required-ness is NOT checked (so a partly filled response can be saved);
    raises `AnswersError` if a shown question's answer cannot be coerced.
    """
    return _normalised(walk_answers(questionnaire, answers))


def _normalised(walk: Walk) -> dict[str, object]:
    problems: dict[str, list[Message]] = {}
    out: dict[str, object] = {}
    for question in walk.shown:
        checked = walk.checked[question.id]
        for key, found in checked.errors.items():
            real = [message for message in found if message.code != "required"]
            if real:
                problems[key] = real
        if checked.value is not None:
            out[question.id] = checked.value
        if checked.other_text is not None:
            out[f"{question.id}.{OTHER}"] = checked.other_text
    if problems:
        raise AnswersError(problems)
    return out


def check_page(
    questionnaire: Questionnaire, answers: Mapping[str, object], page: int | None
) -> tuple[dict[str, list[Message]], dict[str, object] | None]:
    """``validate_answers(questionnaire, answers, page)`` and ``normalise_answers`` of the same
    answers from ONE walk over them: (problems, normalised answers). The normalised answers are
    None when a shown question's answer cannot be coerced (``normalise_answers`` would raise)."""
    walk = walk_answers(questionnaire, answers)
    errors = _errors(questionnaire, answers, walk, page)
    try:
        return errors, _normalised(walk)
    except AnswersError:
        return errors, None


def _check_totals(
    questionnaire: Questionnaire, page: int, walk: Walk, errors: dict[str, list[Message]]
) -> None:
    shown = {question.id for question in walk.shown}
    for total in questionnaire.pages[page].totals:
        ids = [qid for qid in total.questions if qid in shown]
        if not ids or any(qid in errors for qid in ids):
            continue
        given = [walk.values[qid] for qid in ids if qid in walk.values]
        if not given:
            continue  # nothing entered yet: required-ness speaks for itself
        actual = sum(float(value) for value in given if isinstance(value, int | float))
        if abs(actual - float(total.equals)) > 1e-9:
            errors.setdefault(ids[-1], []).append(messages.total_mismatch(total.equals, actual))


def _unknown_keys(questionnaire: Questionnaire, answers: Mapping[str, object]) -> list[str]:
    known: set[str] = set()
    for question in questionnaire.questions():
        known.add(question.id)
        if question.type in CHOICE_TYPES and question.other is not None:
            known.add(f"{question.id}.{OTHER}")
    return [str(key) for key in answers if key not in known]
