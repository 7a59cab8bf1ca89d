"""The questionnaire engine: definitions, show-if logic, answer validation, forms and scoring hooks.

Pure Python (plus WTForms for forms): no Flask, SQLAlchemy or `perception` imports. The app
stores definitions as text or dicts, loads them with `load_definition`, builds page forms with
`build_page_form` (passing FlaskForm as `base`), stores `normalise_answers` output and hands
`extract_scores` to the analytics. The definition format is described in surveys/README.md.
"""

from importlib import resources

from surveys.answer_checks import check_answer
from surveys.answers import AnswersError, normalise_answers, validate_answers
from surveys.definition import load_definition
from surveys.definition_reader import DefinitionError, DefinitionIssue
from surveys.dump import definition_fingerprint, dump_condition, dump_definition
from surveys.fields import QuestionField
from surveys.forms import PageRead, SurveyPageForm, build_page_form, form_data_to_answers, read_page
from surveys.instruments import INSTRUMENT_NAMES, builtin_instruments, instrument_source, load_instrument
from surveys.logic import is_visible, next_page, page_count, previous_page, shown_pages, visible_questions
from surveys.model import (
    OTHER,
    SCHEMA_VERSION,
    AllOf,
    AnyOf,
    Choice,
    Comparison,
    Condition,
    ConditionOp,
    FeedbackDimension,
    MatrixRow,
    Page,
    Question,
    Questionnaire,
    QuestionType,
    Scale,
    ServqualDimension,
    ServqualPart,
    Tags,
    Total,
)
from surveys.scores import ScoredItem, ScoreKind, extract_scores
from surveys.text import LANGS, Lang, Message, Text


def survey_stylesheet() -> str:
    """The CSS for the rendered survey markup (surveys/static/survey.css), for the app to serve."""
    return resources.files(__package__).joinpath("static/survey.css").read_text(encoding="utf-8")


__all__ = [
    "INSTRUMENT_NAMES",
    "LANGS",
    "OTHER",
    "SCHEMA_VERSION",
    "AllOf",
    "AnswersError",
    "AnyOf",
    "Choice",
    "Comparison",
    "Condition",
    "ConditionOp",
    "DefinitionError",
    "DefinitionIssue",
    "FeedbackDimension",
    "Lang",
    "MatrixRow",
    "Message",
    "Page",
    "PageRead",
    "Question",
    "QuestionField",
    "QuestionType",
    "Questionnaire",
    "Scale",
    "ScoreKind",
    "ScoredItem",
    "ServqualDimension",
    "ServqualPart",
    "SurveyPageForm",
    "Tags",
    "Text",
    "Total",
    "build_page_form",
    "builtin_instruments",
    "check_answer",
    "definition_fingerprint",
    "dump_condition",
    "dump_definition",
    "extract_scores",
    "form_data_to_answers",
    "instrument_source",
    "is_visible",
    "load_definition",
    "load_instrument",
    "next_page",
    "normalise_answers",
    "page_count",
    "previous_page",
    "read_page",
    "shown_pages",
    "survey_stylesheet",
    "validate_answers",
    "visible_questions",
]
