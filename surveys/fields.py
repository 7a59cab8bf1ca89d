"""The WTForms field that holds one question's answer, whatever the question's type.

`QuestionField` reads its own input (`name`) and, for compound questions, the inputs it
renders for parts: "name.<row id>" for a matrix or constant-sum row, "name.expectation" and
"name.perception" for a SERVQUAL pair, "name.other" for the "other" text. Its `data` keeps what
was submitted (strings) so `validate_answers` can coerce and judge it exactly as it judges answers
from any other source.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wtforms.fields import Field
from wtforms.utils import unset_value

from surveys.answer_checks import is_empty
from surveys.model import OTHER, Question, QuestionType, ServqualPart
from surveys.text import Lang, Message
from surveys.widgets import QuestionWidget


class QuestionField(Field):
    """One question; renders its whole block (label or legend, help, inputs, errors)."""

    widget = QuestionWidget()
    data: Any

    def __init__(
        self,
        label: str | None = None,
        validators: Any = None,
        *,
        question: Question,
        lang: Lang,
        html_required: bool = False,
        show_if: str | None = None,
        other_default: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(label, validators, **kwargs)
        self.question = question
        self.lang: Lang = lang
        self.html_required = html_required  # render `required`: required and never hidden
        self.show_if = show_if  # JSON of a same-page condition, for the app's script
        self.other_text: str | None = other_default
        self.messages: dict[str, list[Message]] = {}
        self._formdata: Any = None

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        self._formdata = formdata
        super().process(formdata, data, extra_filters)

    def process_formdata(self, valuelist: list[Any]) -> None:
        data, other_text = posted_answer(self.question, self.name, valuelist, self._formdata)
        self.data = data
        if self.question.other is not None:
            self.other_text = other_text

    def answer_items(self) -> dict[str, object]:
        """The submitted answer as entries of an answers mapping (blank answers left out)."""
        return answer_items(self.question, self.data, self.other_text)

    def _value(self) -> str:
        return "" if self.data is None or isinstance(self.data, list | dict) else str(self.data)


def posted_answer(
    question: Question, name: str, valuelist: list[Any], formdata: Any
) -> tuple[object, str | None]:
    """What a `QuestionField` named `name` reads from `formdata` (`valuelist`: the values posted
    under `name`): its data (strings, as submitted) and its "other" text. Also used to read a
    page's answers without binding a form (``surveys.forms.read_page``)."""
    qtype = question.type
    data: object
    if qtype == QuestionType.MULTIPLE_CHOICE:
        data = [value for value in valuelist if isinstance(value, str)]
    elif qtype in (QuestionType.LIKERT_MATRIX, QuestionType.CONSTANT_SUM):
        data = _parts(name, [row.id for row in question.rows], formdata)
    elif qtype == QuestionType.SERVQUAL:
        data = _parts(name, [part.value for part in ServqualPart], formdata)
    else:
        data = valuelist[0] if valuelist else None
    other_text = None
    if question.other is not None:
        other_text = formdata.get(f"{name}.{OTHER}") if formdata else None
    return data, other_text


def _parts(name: str, keys: list[str], formdata: Any) -> dict[str, object]:
    found: dict[str, object] = {}
    for key in keys:
        value = formdata.get(f"{name}.{key}") if formdata else None
        if not is_empty(value):
            found[key] = value
    return found


def answer_items(question: Question, data: object, other_text: str | None) -> dict[str, object]:
    """A question's submitted answer as entries of an answers mapping (blank answers left out)."""
    items: dict[str, object] = {}
    if not is_empty(data):
        items[question.id] = dict(data) if isinstance(data, Mapping) else data
    if question.other is not None and not is_empty(other_text):
        items[f"{question.id}.{OTHER}"] = other_text
    return items
