"""The parsed questionnaire: frozen dataclasses and the closed vocabularies they use.

A `Questionnaire` is what `load_definition` returns and what every other module of `surveys`
reads. It holds no behaviour beyond look-ups; visibility, validation, forms and scoring live in
their own modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from surveys.text import Text

SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS: frozenset[int] = frozenset({1})

#: The choice value reserved for the "other" option of a choice question; its free text is
#: stored in the answers under "<question id>.other".
OTHER = "other"


class QuestionType(StrEnum):
    RATING = "rating"
    CSAT = "csat"
    NPS = "nps"
    CES = "ces"
    LIKERT_MATRIX = "likert_matrix"
    SERVQUAL = "servqual"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    #: Constant sum: the respondent shares `total` points (default 100) among the rows, e.g. the
    #: importance of the SERVQUAL dimensions (Parasuraman, Zeithaml & Berry 1988).
    CONSTANT_SUM = "constant_sum"


#: Types answered by one point of an integer scale.
SCALE_TYPES: frozenset[QuestionType] = frozenset(
    {QuestionType.RATING, QuestionType.CSAT, QuestionType.NPS, QuestionType.CES}
)
#: Types that carry a `scale`.
SCALED_TYPES: frozenset[QuestionType] = SCALE_TYPES | {QuestionType.LIKERT_MATRIX, QuestionType.SERVQUAL}
CHOICE_TYPES: frozenset[QuestionType] = frozenset({QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE})


class FeedbackDimension(StrEnum):
    """The six dimensions of user feedback a collection point reports on."""

    RESPONSE_SPEED = "response_speed"
    FAULT_HANDLING = "fault_handling"
    DELIVERABLE_QUALITY = "deliverable_quality"
    STAFF_ATTITUDE = "staff_attitude"
    SERVICE_CONFORMITY = "service_conformity"
    TRAINING_EFFECT = "training_effect"


class ServqualDimension(StrEnum):
    """The five SERVQUAL dimensions (Parasuraman, Zeithaml & Berry 1988)."""

    TANGIBLES = "tangibles"
    RELIABILITY = "reliability"
    RESPONSIVENESS = "responsiveness"
    ASSURANCE = "assurance"
    EMPATHY = "empathy"


class ServqualPart(StrEnum):
    """The two ratings of a SERVQUAL paired item; also the keys of its answer mapping."""

    EXPECTATION = "expectation"
    PERCEPTION = "perception"


class ConditionOp(StrEnum):
    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "in"
    ANSWERED = "answered"


ConditionValue = int | float | str | bool | tuple[int | float | str, ...]


@dataclass(frozen=True)
class Comparison:
    """`question` (a question id, or "id.row" / "id.expectation" for a part) `op` `value`.

    Every op but `answered` is false when the referenced answer is missing or hidden.
    `answered` with value False is true exactly when the answer is missing or hidden.
    """

    question: str
    op: ConditionOp
    value: ConditionValue = True


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class AllOf:
    conditions: tuple[Condition, ...]


Condition = Comparison | AnyOf | AllOf


@dataclass(frozen=True)
class Scale:
    """An integer scale from `min` to `max` with labels for the two end points."""

    min: int
    max: int
    min_label: Text
    max_label: Text

    @property
    def points(self) -> range:
        return range(self.min, self.max + 1)


@dataclass(frozen=True)
class Choice:
    value: str
    text: Text


@dataclass(frozen=True)
class Tags:
    """What an item measures: a feedback dimension, a SERVQUAL dimension, a service standard."""

    feedback_dimension: FeedbackDimension | None = None
    servqual_dimension: ServqualDimension | None = None
    standard_code: str | None = None


@dataclass(frozen=True)
class MatrixRow:
    """One row of a Likert matrix; its tags default to the question's."""

    id: str
    text: Text
    tags: Tags = Tags()


@dataclass(frozen=True)
class Question:
    """One question. Fields that do not apply to `type` keep their defaults."""

    id: str
    type: QuestionType
    text: Text
    help: Text | None = None
    required: bool = False
    show_if: Condition | None = None
    tags: Tags = Tags()
    scale: Scale | None = None  # scaled types
    rows: tuple[MatrixRow, ...] = ()  # likert_matrix, constant_sum
    choices: tuple[Choice, ...] = ()  # single/multiple choice
    other: Text | None = None  # label of the "other" option; None = no such option
    min_selected: int | None = None  # multiple_choice
    max_selected: int | None = None  # multiple_choice
    min_value: int | float | None = None  # number
    max_value: int | float | None = None  # number
    integer: bool = True  # number
    unit: Text | None = None  # number, constant_sum
    total: int | None = None  # constant_sum: the points to share out
    min_date: date | None = None  # date
    max_date: date | None = None  # date
    max_length: int | None = None  # text
    multiline: bool = True  # text


@dataclass(frozen=True)
class Total:
    """The number questions `questions` (same page) must add up to `equals` once any is answered."""

    questions: tuple[str, ...]
    equals: int | float


@dataclass(frozen=True)
class Page:
    id: str
    questions: tuple[Question, ...]
    title: Text | None = None
    description: Text | None = None
    show_if: Condition | None = None
    totals: tuple[Total, ...] = ()


@dataclass(frozen=True)
class Questionnaire:
    id: str
    version: str
    title: Text
    pages: tuple[Page, ...]
    description: Text | None = None
    schema_version: int = SCHEMA_VERSION

    def questions(self) -> Iterator[Question]:
        """All questions in document order."""
        for page in self.pages:
            yield from page.questions

    def question(self, question_id: str) -> Question:
        """The question with this id; KeyError if there is none."""
        for question in self.questions():
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def page_index_of(self, question_id: str) -> int:
        """Index of the page holding the question; KeyError if there is none."""
        for index, page in enumerate(self.pages):
            if any(question.id == question_id for question in page.questions):
                return index
        raise KeyError(question_id)


def condition_references(condition: Condition | None) -> Iterator[str]:
    """The question ids (before any ".part") a condition reads."""
    if condition is None:
        return
    if isinstance(condition, Comparison):
        yield condition.question.split(".", 1)[0]
    else:
        for inner in condition.conditions:
            yield from condition_references(inner)
