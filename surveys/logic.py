"""Show-if logic and page navigation: which questions and pages a respondent sees.

Questions are walked in document order. A question is shown when its page's `show_if` and its
own `show_if` hold on the answers to the questions shown BEFORE it; an answer to a hidden
question, or an answer that is not valid, counts as no answer. A page is shown when at least one
of its questions is shown, so `next_page` skips pages whose questions are all hidden.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field

from surveys.answer_checks import Checked, check_answer
from surveys.model import OTHER, AllOf, AnyOf, Comparison, Condition, ConditionOp, Question, Questionnaire


@dataclass
class Walk:
    """The result of walking the answers: shown questions, their checks and their usable values."""

    shown: list[Question] = field(default_factory=list)
    checked: dict[str, Checked] = field(default_factory=dict)
    values: dict[str, object] = field(default_factory=dict)
    other_texts: dict[str, str] = field(default_factory=dict)


def walk_answers(questionnaire: Questionnaire, answers: Mapping[str, object]) -> Walk:
    """Check every shown question's answer in order (required-ness included)."""
    walk = Walk()
    for page in questionnaire.pages:
        page_shown = page.show_if is None or evaluate(page.show_if, walk.values, walk.other_texts)
        for question in page.questions:
            if not page_shown:
                continue
            if question.show_if is not None and not evaluate(question.show_if, walk.values, walk.other_texts):
                continue
            checked = check_answer(
                question,
                answers.get(question.id),
                answers.get(f"{question.id}.{OTHER}"),
                required=question.required,
            )
            walk.shown.append(question)
            walk.checked[question.id] = checked
            if checked.value is not None and question.id not in checked.errors:
                walk.values[question.id] = checked.value
                if checked.other_text is not None:
                    walk.other_texts[question.id] = checked.other_text
    return walk


def evaluate(condition: Condition, values: Mapping[str, object], other_texts: Mapping[str, str]) -> bool:
    """Truth of `condition` on usable answers (`values` from `walk_answers`).

    ==, != and in on a multiple-choice answer test whether the value(s) were among those chosen.
    """
    if isinstance(condition, Comparison):
        return _compare(condition, values, other_texts)
    results = (evaluate(inner, values, other_texts) for inner in condition.conditions)
    return any(results) if isinstance(condition, AnyOf) else all(results)


def _compare(condition: Comparison, values: Mapping[str, object], other_texts: Mapping[str, str]) -> bool:
    qid, _, part = condition.question.partition(".")
    answer: object = values.get(qid)
    if part == OTHER:
        answer = other_texts.get(qid)
    elif part:
        answer = answer.get(part) if isinstance(answer, Mapping) else None
    op, target = condition.op, condition.value
    if op == ConditionOp.ANSWERED:
        return (answer is not None) == target
    if answer is None:
        return False
    if isinstance(answer, list):  # multiple choice
        if op == ConditionOp.IN:
            return isinstance(target, tuple) and any(item in answer for item in target)
        return (target in answer) == (op == ConditionOp.EQ)
    try:
        if op == ConditionOp.EQ:
            return answer == target
        if op == ConditionOp.NE:
            return answer != target
        if op == ConditionOp.IN:
            return isinstance(target, tuple) and answer in target
        if op == ConditionOp.LT:
            return answer < target  # type: ignore[operator]
        if op == ConditionOp.LE:
            return answer <= target  # type: ignore[operator]
        if op == ConditionOp.GT:
            return answer > target  # type: ignore[operator]
        return answer >= target  # type: ignore[operator]
    except TypeError:  # a hand-built condition comparing unlike types is simply false
        return False


def visible_questions(questionnaire: Questionnaire, answers: Mapping[str, object]) -> tuple[Question, ...]:
    """The questions shown for these answers, in document order."""
    return tuple(walk_answers(questionnaire, answers).shown)


def is_visible(questionnaire: Questionnaire, answers: Mapping[str, object], question_id: str) -> bool:
    """Whether the question is shown for these answers (KeyError for an unknown id)."""
    questionnaire.question(question_id)
    return any(q.id == question_id for q in visible_questions(questionnaire, answers))


def page_count(questionnaire: Questionnaire) -> int:
    """Number of pages in the definition (shown or not)."""
    return len(questionnaire.pages)


def shown_pages(questionnaire: Questionnaire, answers: Mapping[str, object]) -> tuple[int, ...]:
    """Indexes of the pages with at least one shown question."""
    shown = {q.id for q in visible_questions(questionnaire, answers)}
    return tuple(
        index
        for index, page in enumerate(questionnaire.pages)
        if any(question.id in shown for question in page.questions)
    )


def next_page(questionnaire: Questionnaire, answers: Mapping[str, object], current: int | None) -> int | None:
    """The first shown page after `current` (None or -1: the first shown page); None when done."""
    start = -1 if current is None else current
    return next((index for index in shown_pages(questionnaire, answers) if index > start), None)


def previous_page(questionnaire: Questionnaire, answers: Mapping[str, object], current: int) -> int | None:
    """The last shown page before `current`; None on the first page."""
    earlier = [index for index in shown_pages(questionnaire, answers) if index < current]
    return earlier[-1] if earlier else None


def partially_evaluate(
    condition: Condition,
    known: Set[str],
    values: Mapping[str, object],
    other_texts: Mapping[str, str],
) -> Condition | bool:
    """Decide the comparisons that read questions in `known`; return True, False or what is left.

    Used for a page form: conditions on earlier pages are settled by the answers already given,
    and only the part that reads questions on the same page is left for the browser.
    """
    if isinstance(condition, Comparison):
        if condition.question.partition(".")[0] in known:
            return _compare(condition, values, other_texts)
        return condition
    parts = [partially_evaluate(inner, known, values, other_texts) for inner in condition.conditions]
    deciding, neutral = (True, False) if isinstance(condition, AnyOf) else (False, True)
    if any(part is deciding for part in parts):
        return deciding
    rest = tuple(part for part in parts if not isinstance(part, bool))
    if not rest:
        return neutral
    if len(rest) == 1:
        return rest[0]
    return AnyOf(rest) if isinstance(condition, AnyOf) else AllOf(rest)
