"""A stored answer as a person reads it (issue 17 "never codes"): a choice's label instead of its
value, a scale point with its end label, a matrix as "row: point" lines, yes/no as words. Pure
(no Flask): the follow-up page and anything else showing answers call it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from surveys.model import Question
from surveys.text import Lang, Text

_YES_NO = {True: ("是", "yes"), False: ("否", "no")}


def _choice(question: Question, value: Any, lang: Lang) -> str:
    for choice in question.choices:
        if choice.value == value:
            return choice.text.get(lang)
    if question.other is not None and isinstance(value, str):
        return f"{question.other.get(lang)}: {value}"
    return str(value)


def _point(question: Question, value: Any) -> str:
    scale = question.scale
    if scale is None or not isinstance(value, int | float):
        return str(value)
    return f"{value:g} / {scale.max}"


def answer_text(question: Question, value: Any, lang: Lang, names: Mapping[str, Text] | None = None) -> str:
    """``names``: question id -> its text, for answers keyed by other questions' ids."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return _YES_NO[value][0 if lang == "zh" else 1]
    if isinstance(value, dict):
        rows = {key: text.get(lang) for key, text in (names or {}).items()}
        rows.update({row.id: row.text.get(lang) for row in question.rows})
        sep = "；" if lang == "zh" else "; "
        return sep.join(f"{rows.get(k, k)}: {_point(question, v)}" for k, v in value.items())
    if isinstance(value, list):
        return ("、" if lang == "zh" else ", ").join(_choice(question, v, lang) for v in value)
    if question.choices:
        return _choice(question, value, lang)
    if question.scale is not None:
        return _point(question, value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
