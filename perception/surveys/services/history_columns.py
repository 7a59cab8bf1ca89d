"""The header of a survey-history file matched to a questionnaire: which column holds the source id,
the submission time, the attribution, and which holds each question (or each part of one).

Three layouts are read the same way, because they differ only in their headers:
- this product's own (``source_id, submitted_at, language, channel, region, customer, service,
  ticket, contact`` and one column per question id, ``q.row`` for matrix rows, ``q.expectation`` /
  ``q.perception`` for SERVQUAL pairs, ``q.other`` for an "other" text);
- a LimeSurvey "export responses" CSV with question codes as headings (``id``, ``submitdate``,
  ``startlanguage``, ``Q2[SQ001]`` for a sub-question or a multiple-choice option answered "Y");
- a Formbricks responses download (``Response ID``, ``Timestamp``, questions headed by their text).

A column that is neither of these nor a known bookkeeping column of those tools is refused with its
name: a silently ignored column is an answer silently lost.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from surveys import Questionnaire, QuestionType
from surveys.model import CHOICE_TYPES, OTHER, ServqualPart

# canonical meta column -> accepted headings (compared lower-case, spaces and dashes as "_")
META: dict[str, tuple[str, ...]] = {
    "source_id": ("source_id", "id", "response_id", "来源编号", "答卷编号", "答卷id"),
    "submitted_at": ("submitted_at", "submitdate", "timestamp", "date", "提交时间", "答题时间"),
    "language": ("language", "startlanguage", "lang", "语言"),
    "channel": ("channel", "means", "渠道", "方式"),
    "region": ("region", "区域", "地区"),
    "customer": ("customer", "客户"),
    "service": ("service", "服务"),
    "ticket": ("ticket", "ticket_id", "工单", "工单号"),
    "contact": ("contact", "contact_email", "email", "联系人", "邮箱"),
}
# Bookkeeping columns of LimeSurvey and Formbricks exports: known, carry no answer, not stored
# (ipaddr and token would tie an answer to a person).
BOOKKEEPING = frozenset(
    {
        "lastpage", "seed", "startdate", "datestamp", "ipaddr", "refurl", "token", "interviewtime",
        "no.", "finished", "survey_id", "formbricks_id_(internal)", "user_id", "notes", "tags",
        "quotas", "verified_email", "url", "user_agent", "country", "action", "source",
    }
)  # fmt: skip
REQUIRED_META = ("source_id", "submitted_at")
_BRACKET = re.compile(r"^(.+?)\[(.+)\]$")  # LimeSurvey Q2[SQ001]


def heading(text: str) -> str:
    return " ".join(text.strip().lstrip("\ufeff").split()).lower().replace(" ", "_").replace("-", "_")


def _text_key(text: str) -> str:
    return " ".join(text.split()).lower()


@dataclass(frozen=True)
class Part:
    """One column's place in the answers: ``question`` alone, ``question[sub]`` of a matrix or
    SERVQUAL pair, the "other" text, or one option of a multiple choice (LimeSurvey "Y")."""

    question: str
    sub: str | None = None
    other: bool = False
    option: str | None = None


@dataclass
class Layout:
    meta: dict[str, int] = field(default_factory=dict)  # canonical meta column -> index
    parts: dict[int, Part] = field(default_factory=dict)  # column index -> answer part
    ignored: list[int] = field(default_factory=list)  # bookkeeping columns
    unknown: list[int] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # required meta or required questions
    repeated: list[int] = field(default_factory=list)  # a second column for the same thing

    def column_of(self, key: str) -> int | None:
        """The column holding an answer key as ``validate_answers`` names it (``q``, ``q.row``)."""
        question, _, sub = key.partition(".")
        for index, part in self.parts.items():
            if part.question == question and (not sub or part.sub == sub or (part.other and sub == OTHER)):
                return index
        return None


def _question_keys(questionnaire: Questionnaire) -> dict[str, Part]:
    keys: dict[str, Part] = {}
    for q in questionnaire.questions():
        whole = Part(q.id)
        for alias in (q.id, _text_key(q.text.zh), _text_key(q.text.en)):
            keys.setdefault(alias.lower(), whole)
        if q.type in (QuestionType.LIKERT_MATRIX, QuestionType.CONSTANT_SUM):
            for row in q.rows:
                part = Part(q.id, sub=row.id)
                for alias in (f"{q.id}.{row.id}", f"{q.id}[{row.id}]"):
                    keys[alias.lower()] = part
        elif q.type == QuestionType.SERVQUAL:
            for side in ServqualPart:
                part = Part(q.id, sub=side.value)
                for alias in (f"{q.id}.{side.value}", f"{q.id}[{side.value}]"):
                    keys[alias.lower()] = part
        if q.type in CHOICE_TYPES and q.other is not None:
            for alias in (f"{q.id}.{OTHER}", f"{q.id}[{OTHER}]"):
                keys[alias.lower()] = Part(q.id, other=True)
        if q.type == QuestionType.MULTIPLE_CHOICE:
            for choice in q.choices:
                keys.setdefault(f"{q.id}[{choice.value}]".lower(), Part(q.id, option=choice.value))
    return keys


def read_layout(header: Sequence[str], questionnaire: Questionnaire) -> Layout:
    """Match every header cell; report what is unknown, repeated or missing."""
    meta_alias = {heading(alias): name for name, aliases in META.items() for alias in aliases}
    questions = _question_keys(questionnaire)
    layout = Layout()
    seen_parts: set[Part] = set()
    for index, cell in enumerate(header):
        if not cell.strip():
            layout.unknown.append(index)
            continue
        key = heading(cell)
        name = meta_alias.get(key)
        part = questions.get(cell.strip().lower()) or questions.get(_text_key(cell))
        if part is None and (match := _BRACKET.match(cell.strip())):
            part = questions.get(f"{match.group(1)}[{match.group(2)}]".lower())
        if part is not None:
            if part in seen_parts:
                layout.repeated.append(index)
            seen_parts.add(part)
            layout.parts[index] = part
        elif name is not None:
            if name in layout.meta:
                layout.repeated.append(index)
            else:
                layout.meta[name] = index
        elif key in BOOKKEEPING:
            layout.ignored.append(index)
        else:
            layout.unknown.append(index)
    layout.missing = [name for name in REQUIRED_META if name not in layout.meta]
    answered = {part.question for part in layout.parts.values()}
    always = [
        q for page in questionnaire.pages if page.show_if is None for q in page.questions if q.show_if is None
    ]
    layout.missing += [q.id for q in always if q.required and q.id not in answered]
    return layout
