"""Validating the rows of a survey-history file: each row one response, checked against the
campaign's questionnaire (the same validator as a live answer) and its attribution resolved to ids.

Every problem names the row (as the spreadsheet numbers it), the column and the value; a row is
never half accepted. Times in the file are the organisation's wall-clock times unless they carry an
offset ("+08:00", "Z"); they are stored as naive UTC like every other time. An anonymous campaign's
answers keep only their day (as live anonymous answers do) and no contact or ticket.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core.models.base import utcnow
from perception.core.models.org import Contact
from perception.kpi.models import Ticket
from perception.kpi.services.codebook import Codebook, code_key
from perception.kpi.services.files import Table
from perception.kpi.services.messages import ImportProblem, ProblemList, problem
from perception.kpi.services.ticket_time import local_to_utc, parse_datetimes, utc_to_local
from perception.surveys.models import ResponseMeans
from perception.surveys.services.history_columns import Layout, Part
from surveys import Questionnaire, QuestionType, normalise_answers, validate_answers
from surveys.model import OTHER
from surveys.text import Message

MAX_SOURCE_ID = 57  # stored as the submission nonce "import:<id>" (64 characters)
NONCE_PREFIX = "import:"
_SPLIT = re.compile(r"\s*[;|\n]\s*")
_YES = frozenset({"y", "yes", "1", "true", "x", "是", "√"})
CHANNELS: dict[str, str] = {
    "survey": ResponseMeans.SURVEY, "web": ResponseMeans.SURVEY, "email": ResponseMeans.SURVEY,
    "link": ResponseMeans.SURVEY, "sms": ResponseMeans.SURVEY, "wechat": ResponseMeans.SURVEY,
    "问卷": ResponseMeans.SURVEY, "phone": ResponseMeans.CALLBACK, "callback": ResponseMeans.CALLBACK,
    "电话": ResponseMeans.CALLBACK, "回访": ResponseMeans.CALLBACK,
}  # fmt: skip
LANGUAGES = {"zh": "zh", "zh_cn": "zh", "zh-cn": "zh", "zh-hans": "zh", "中文": "zh", "en": "en",
             "en_us": "en", "en-us": "en", "en-gb": "en", "english": "en", "英文": "en"}  # fmt: skip

# Problems of this file kind that the ticket import does not have (code -> zh, en).
TEXTS: dict[str, tuple[str, str]] = {
    "duplicate_source": ("与第 {other} 行的来源编号重复", "the same source id as row {other}"),
    "unknown_ticket": ("没有这个工单号", "no ticket with this id"),
    "unknown_contact": ("该客户下没有这个联系人邮箱", "no contact with this email at the customer"),
    "anonymous_link": (
        "匿名活动不保存与个人的关联：请删除此列",
        "the campaign is anonymous and keeps no link to a person: remove this column",
    ),
    "bad_language": ("语言应为 zh 或 en", "the language must be zh or en"),
    "bad_channel": (
        "渠道应为 survey（问卷）或 callback（电话回访）",
        "the channel must be survey or callback",
    ),
    "customer_region": ("客户不属于该区域", "the customer is not in this region"),
    "unknown_heading": (
        "与问卷定义不符的列：既不是问题编号也不是已知列",
        "this column matches no question of the survey definition and no known column",
    ),
    "repeated_column": ("该列与前面的列重复", "this column repeats an earlier one"),
}


def own(row: int | None, column: str | None, value: Any, code: str, **params: Any) -> ImportProblem:
    zh, en = TEXTS[code]
    shown = None if value in (None, "") else str(value)[:80]
    return ImportProblem(
        column, zh=zh.format(**params), en=en.format(**params), code=code, row=row, value=shown
    )


@dataclass(frozen=True)
class Target:
    """What the file is imported into: the campaign's questionnaire and defaults."""

    campaign_id: int
    version_id: int
    anonymous: bool
    region_id: int | None
    customer_id: int | None
    service_id: int | None
    tier_id: int | None
    org_timezone: str
    allowed_regions: frozenset[int] | None = None


@dataclass(frozen=True)
class HistoryRow:
    """One valid response, ready to store (``nonce`` is the idempotency key of its source id)."""

    row: int
    nonce: str
    submitted_at: datetime
    observed_on: date
    language: str
    means: str
    region_id: int
    customer_id: int | None
    service_id: int | None
    tier_id: int | None
    ticket_id: int | None
    contact_id: int | None
    answers: dict[str, object]


def check_header(table: Table, layout: Layout, target: Target, problems: ProblemList) -> None:
    for index in layout.unknown:
        problems.add(own(1, table.header[index] or f"#{index + 1}", None, "unknown_heading"))
    for index in layout.repeated:
        problems.add(own(1, table.header[index], None, "repeated_column"))
    for name in layout.missing:
        problems.add(problem(1, name, None, "missing_column"))
    if target.anonymous:
        for name in ("contact", "ticket"):
            if name in layout.meta:
                problems.add(own(1, table.header[layout.meta[name]], None, "anonymous_link"))


def _labels(questionnaire: Questionnaire) -> dict[str, dict[str, str]]:
    """Per choice question: choice value, English and Chinese text -> value (exports write either)."""
    out: dict[str, dict[str, str]] = {}
    for q in questionnaire.questions():
        if q.choices:
            out[q.id] = {}
            for c in q.choices:
                for key in (c.text.en, c.text.zh, c.value):
                    out[q.id][key.strip().lower()] = c.value
    return out


class RowReader:
    """Builds each row's answers from its cells and checks them with the questionnaire."""

    def __init__(
        self,
        table: Table,
        layout: Layout,
        questionnaire: Questionnaire,
        defaults: dict[str, object] | None = None,
    ) -> None:
        self.table, self.layout, self.questionnaire = table, layout, questionnaire
        self.defaults = defaults or {}
        self.types = {q.id: q.type for q in questionnaire.questions()}
        self.labels = _labels(questionnaire)
        self.memo: dict[tuple[str, ...], tuple[Any, bool]] = {}

    def _choice(self, qid: str, raw: str) -> str:
        return self.labels.get(qid, {}).get(raw.strip().lower(), raw)

    def answers(self, i: int) -> dict[str, object]:
        out: dict[str, Any] = dict(self.defaults)
        for index, part in self.layout.parts.items():
            raw = self.table.columns[index][i]
            if not raw:
                continue
            self._put(out, part, raw)
        return out

    def _put(self, out: dict[str, Any], part: Part, raw: str) -> None:
        qid = part.question
        if part.sub is not None:
            out.setdefault(qid, {})[part.sub] = raw
        elif part.other:  # LimeSurvey writes the text only; a given "other" text means "other" chosen
            out[f"{qid}.other"] = raw
            if self.types[qid] == QuestionType.MULTIPLE_CHOICE:
                chosen = out.setdefault(qid, [])
                if OTHER not in chosen:
                    chosen.append(OTHER)
            else:
                out.setdefault(qid, OTHER)
        elif part.option is not None:
            if raw.strip().lower() in _YES:
                out.setdefault(qid, []).append(part.option)
        elif self.types[qid] == QuestionType.MULTIPLE_CHOICE:
            picked = [self._choice(qid, v) for v in _SPLIT.split(raw.strip()) if v]
            out[qid] = picked + [v for v in out.get(qid, []) if v not in picked]
        elif self.types[qid] == QuestionType.SINGLE_CHOICE:
            out[qid] = self._choice(qid, raw)
        elif self.types[qid] == QuestionType.DATE and len(raw) > 10 and raw[10:].strip(" T0:") == "":
            out[qid] = raw[:10]  # an Excel date cell read as midnight
        else:
            out[qid] = raw

    def check(self, i: int, row_no: int, problems: ProblemList) -> dict[str, object] | None:
        """The row's normalised answers, or None after adding its problems. Rows with the same
        cells share one result (a pure function of the cells): history files repeat the same few
        scale answers thousands of times, and the questionnaire walk is the costly part."""
        key = tuple(self.table.columns[index][i] for index in self.layout.parts)
        cached = self.memo.get(key)
        if cached is None:
            answers = self.answers(i)
            found = validate_answers(self.questionnaire, answers)
            cached = found if found else normalise_answers(self.questionnaire, answers), bool(found)
            self.memo[key] = cached
        result, failed = cached
        if not failed:
            return cast(dict[str, object], result)
        found_problems = cast(dict[str, list[Message]], result)
        for answer_key, messages in found_problems.items():
            index = self.layout.column_of(answer_key)
            column = self.table.header[index] if index is not None else answer_key
            value = self.table.columns[index][i] if index is not None else None
            for m in messages:
                problems.add(ImportProblem(column, zh=m.zh, en=m.en, code=m.code, row=row_no, value=value))
        return None


def _times(
    table: Table, layout: Layout, tz: str, problems: ProblemList
) -> tuple[list[datetime | None], list]:
    index = layout.meta["submitted_at"]
    values = table.columns[index]
    parsed, is_utc, bad = parse_datetimes(values)
    for i in bad:
        problems.add(problem(table.row_no(i), table.header[index], values[i], "bad_datetime"))
    utc = np.where(is_utc, parsed, local_to_utc(parsed, tz)) if is_utc.any() else local_to_utc(parsed, tz)
    local_days = utc_to_local(utc, tz).astype("datetime64[D]")
    now = np.datetime64(utcnow(), "s")
    bad_set = set(bad)
    moments: list[datetime | None] = []
    for i, value in enumerate(utc.tolist()):
        if i in bad_set:
            moments.append(None)
        elif value is None:
            problems.add(problem(table.row_no(i), table.header[index], None, "required"))
            moments.append(None)
        elif utc[i] > now:
            problems.add(problem(table.row_no(i), table.header[index], values[i], "in_future"))
            moments.append(None)
        else:
            moments.append(value)
    return moments, local_days.tolist()


def _lookup_tickets(session: Session, ids: set[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    items = sorted(ids)
    for start in range(0, len(items), 900):
        chunk = items[start : start + 900]
        found = session.execute(select(Ticket.external_id, Ticket.id).where(Ticket.external_id.in_(chunk)))
        out.update({external: ticket_id for external, ticket_id in found})
    return out


def _contacts(session: Session) -> dict[tuple[int, str], int]:
    rows = session.execute(
        select(Contact.customer_id, Contact.email, Contact.id).where(Contact.email.is_not(None))
    )
    return {(customer, (email or "").strip().lower()): cid for customer, email, cid in rows}


def parse_rows(
    session: Session,
    table: Table,
    layout: Layout,
    questionnaire: Questionnaire,
    target: Target,
    problems: ProblemList,
    *,
    answered: list[bool] | None = None,
    defaults: dict[str, object] | None = None,
    seen: dict[str, int] | None = None,
) -> list[HistoryRow]:
    """Every row checked; returns the valid ones (the caller refuses the file if ``problems``).
    ``answered[i]`` False: row i carries no answers to check (a callback that did not reach anyone);
    ``defaults`` are answers every row gives unless its cells say otherwise. ``seen`` (source id
    -> row) receives the first row of each source id of ``table``: a file read in chunks checks
    repeats across its chunks from it (history_stage)."""
    book = Codebook.load(session)
    blank = [""] * table.n_rows
    col = {name: blank for name in ("language", "channel")}
    col.update({name: table.columns[index] for name, index in layout.meta.items()})
    head = {name: table.header[index] for name, index in layout.meta.items()}
    moments, days = _times(table, layout, target.org_timezone, problems)
    tickets = _lookup_tickets(session, set(col["ticket"]) - {""}) if "ticket" in col else {}
    contacts = _contacts(session) if "contact" in col else {}
    reader = RowReader(table, layout, questionnaire, defaults)
    seen = {} if seen is None else seen
    out: list[HistoryRow] = []
    for i in range(table.n_rows):
        row_no = table.row_no(i)
        before = problems.count

        def bad(
            name: str, code: str, own_code: bool = False, i: int = i, row_no: int = row_no, **params: Any
        ) -> None:
            value = col[name][i] if name in col else None
            made = own if own_code else problem
            problems.add(made(row_no, head.get(name, name), value, code, **params))

        source = col["source_id"][i].strip()
        if not source:
            bad("source_id", "required")
        elif len(source) > MAX_SOURCE_ID:
            bad("source_id", "too_long", limit=MAX_SOURCE_ID)
        elif source in seen:
            bad("source_id", "duplicate_source", own_code=True, other=seen[source])
        else:
            seen[source] = row_no
        language = "zh"
        if col["language"][i]:
            language = LANGUAGES.get(col["language"][i].strip().lower(), "")
            if not language:
                bad("language", "bad_language", own_code=True)
        means: str = ResponseMeans.SURVEY
        if col["channel"][i]:
            means = CHANNELS.get(col["channel"][i].strip().lower(), "")
            if not means:
                bad("channel", "bad_channel", own_code=True)
        region_id, customer_id, service_id = target.region_id, target.customer_id, target.service_id
        if "customer" in col and col["customer"][i]:
            customer_id = book.customers.get(code_key(col["customer"][i]))
            if customer_id is None:
                bad("customer", "unknown_customer")
            else:
                region_id = book.customer_region.get(customer_id, region_id)
        if "region" in col and col["region"][i]:
            given = book.regions.get(code_key(col["region"][i]))
            if given is None:
                bad("region", "unknown_region")
            elif customer_id is not None and "customer" in col and col["customer"][i] and given != region_id:
                bad("customer", "customer_region", own_code=True)
            else:
                region_id = given
        if region_id is None and problems.count == before:
            bad("region", "region_mismatch")
        elif (
            region_id is not None
            and target.allowed_regions is not None
            and region_id not in target.allowed_regions
        ):
            bad("region", "region_forbidden")
        if "service" in col and col["service"][i]:
            service_id = book.services.get(code_key(col["service"][i]))
            if service_id is None:
                bad("service", "unknown_service")
        ticket_id = contact_id = None
        if not target.anonymous and "ticket" in col and col["ticket"][i]:
            ticket_id = tickets.get(col["ticket"][i].strip())
            if ticket_id is None:
                bad("ticket", "unknown_ticket", own_code=True)
        if not target.anonymous and "contact" in col and col["contact"][i]:
            contact_id = contacts.get((customer_id or 0, col["contact"][i].strip().lower()))
            if contact_id is None:
                bad("contact", "unknown_contact", own_code=True)
        answers = reader.check(i, row_no, problems) if answered is None or answered[i] else {}
        moment = moments[i]
        if problems.count != before or answers is None or moment is None or region_id is None:
            continue
        day: date = days[i]
        tier = book.subscription_tier.get((customer_id, service_id)) if customer_id and service_id else None
        out.append(
            HistoryRow(
                row=row_no,
                nonce=NONCE_PREFIX + source,
                submitted_at=datetime(day.year, day.month, day.day) if target.anonymous else moment,
                observed_on=day,
                language=language,
                means=means,
                region_id=region_id,
                customer_id=customer_id,
                service_id=service_id,
                tier_id=tier or target.tier_id,
                ticket_id=ticket_id,
                contact_id=contact_id,
                answers=answers,
            )
        )
    return out
