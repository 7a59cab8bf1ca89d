"""Turning raw report rows (form fields, CSV/Excel cells, API JSON) into validated entries.

One parser serves the form, the import and the API, so the three accept exactly the same input.
``parse_entries`` validates every row and returns either all entries or every problem found.
Customers must belong to the report's region (a collection point reports on its own customers).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.collection.services.errors import CollectionError
from perception.collection.services.vocab import (
    ALIASES,
    CATEGORIES,
    DIMENSIONS,
    FIELDS,
    KIND_LETTERS,
    KINDS,
    MEANS,
    SIZES,
    URGENCIES,
    normalise_choice,
)
from perception.core import nul
from perception.core.errors import Problem, UserError
from perception.core.models.org import CustomerOrg
from perception.core.periods import parse_day
from perception.setup.models.catalog import Service

MAX_TEXT = 4000


@dataclass(frozen=True)
class EntryInput:
    """A validated entry, ready to store."""

    kind: str
    text: str
    customer_id: int | None = None
    contact_name: str | None = None
    service_id: int | None = None
    category: str | None = None
    event_date: date | None = None
    impact: str | None = None
    dimension: str | None = None
    rating: int | None = None
    means: str | None = None
    area: str | None = None
    urgency: str | None = None
    size: str | None = None


class Lookup:
    """Customers of one region and the service catalogue, by code and by id, loaded once."""

    def __init__(self, session: Session, region_id: int) -> None:
        customers = session.scalars(select(CustomerOrg).where(CustomerOrg.region_id == region_id)).all()
        self.customers = {c.code.casefold(): c.id for c in customers} | {str(c.id): c.id for c in customers}
        services = session.scalars(select(Service).where(Service.active.is_(True))).all()
        self.services = {s.code.casefold(): s.id for s in services} | {str(s.id): s.id for s in services}


def canonical_key(name: Any) -> str:
    key = str(name or "").strip()
    key = re.sub(r"\s+", "_", key.casefold())
    return ALIASES.get(key, ALIASES.get(str(name).strip(), key))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _parse_rating(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    if number != int(number) or not 1 <= number <= 5:
        return None
    return int(number)


class _RowParser:
    def __init__(self, lookup: Lookup, week_start: date, row: int | None) -> None:
        self.lookup, self.week_start, self.row = lookup, week_start, row
        self.problems: list[Problem] = []

    def bad(self, field: str, zh: str, en: str, code: str) -> None:
        self.problems.append(Problem(field, zh, en, code=code, row=self.row))

    def required(self, field: str) -> None:
        self.bad(field, "此项为必填项。", "This field is required.", "required")

    def choice(
        self, raw: Mapping[str, Any], field: str, vocab: Mapping[str, Any], required: bool
    ) -> str | None:
        value = raw.get(field)
        if _blank(value):
            if required:
                self.required(field)
            return None
        code = normalise_choice(vocab, value)
        if code is None:
            self.bad(
                field,
                f"无法识别的取值 {value!r}；可选：{'、'.join(v[0] for v in vocab.values())}。",
                f"Unknown value {value!r}; use one of: {', '.join(vocab)}.",
                "unknown_choice",
            )
        return code

    def ref(self, raw: Mapping[str, Any], field: str, table: dict[str, int], required: bool) -> int | None:
        value = raw.get(field)
        if _blank(value):
            if required:
                self.required(field)
            return None
        found = table.get(str(value).strip().casefold())
        if found is None:
            if field == "customer":
                self.bad(
                    field,
                    f"本采集点所在区域没有客户 {value!r}。",
                    f"No customer {value!r} in this collection point's region.",
                    "unknown_customer",
                )
            else:
                self.bad(
                    field,
                    f"服务目录中没有有效服务 {value!r}。",
                    f"No active service {value!r} in the catalogue.",
                    "unknown_service",
                )
        return found

    def text(self, raw: Mapping[str, Any], field: str, limit: int, required: bool) -> str | None:
        value = raw.get(field)
        if _blank(value):
            if required:
                self.required(field)
            return None
        text = str(value).strip()
        if len(text) > limit:
            self.bad(field, f"最多 {limit} 个字符。", f"At most {limit} characters.", "too_long")
        if "\x00" in text:  # an imported cell (forms and JSON refuse one before): no column holds it
            self.bad(field, *nul.TEXT, nul.CODE)
        return text

    def event_date(self, raw: Mapping[str, Any]) -> date | None:
        value = raw.get("date")
        if _blank(value):
            self.required("date")
            return None
        try:
            parsed = parse_day(value, "date")
        except UserError as exc:  # the one date parser's problem, placed on this row
            self.problems.extend(replace(p, row=self.row) for p in exc.problems)
            return None
        if abs((parsed - self.week_start).days) > 366:
            self.bad(
                "date",
                "日期与报告所在周相差超过一年。",
                "The date is more than a year away from the report's week.",
                "date_out_of_range",
            )
        return parsed

    def parse(self, raw: Mapping[str, Any]) -> EntryInput | None:
        kind_value = raw.get("kind")
        kind = KIND_LETTERS.get(str(kind_value).strip().casefold()) or self.choice(raw, "kind", KINDS, True)
        if kind is None:
            return None
        entry = EntryInput(
            kind=kind,
            text=self.text(raw, "text", MAX_TEXT, True) or "",
            customer_id=self.ref(raw, "customer", self.lookup.customers, True),
            service_id=self.ref(raw, "service", self.lookup.services, False),
        )
        if kind == "dynamic":
            entry = replace(
                entry,
                category=self.choice(raw, "category", CATEGORIES, True),
                event_date=self.event_date(raw),
                impact=self.text(raw, "impact", MAX_TEXT, False),
            )
        elif kind == "feedback":
            rating = None
            if _blank(raw.get("rating")):
                self.required("rating")
            else:
                rating = _parse_rating(raw.get("rating"))
                if rating is None:
                    self.bad(
                        "rating", "请填写 1 到 5 的整数。", "A whole number from 1 to 5.", "invalid_rating"
                    )
            entry = replace(
                entry,
                contact_name=self.text(raw, "contact", 120, False),
                dimension=self.choice(raw, "dimension", DIMENSIONS, True),
                rating=rating,
                means=self.choice(raw, "means", MEANS, True),
            )
        else:
            entry = replace(
                entry,
                area=self.text(raw, "area", 120, False),
                urgency=self.choice(raw, "urgency", URGENCIES, False) or "medium",
                size=self.choice(raw, "size", SIZES, False),
            )
        return entry


def canonical_row(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Map every known column name (English or Chinese, any case) to the canonical key."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = canonical_key(key)
        if name in FIELDS and (name not in out or _blank(out[name])):
            out[name] = value
    return out


def is_empty_row(raw: Mapping[str, Any]) -> bool:
    return all(_blank(v) for k, v in raw.items() if k != "kind")


def parse_entries(
    session: Session,
    rows: Sequence[Mapping[str, Any]],
    region_id: int,
    week_start: date,
    *,
    row_numbers: Sequence[int] | None = None,
) -> list[EntryInput]:
    """Validate every row; return all entries, or raise CollectionError naming each bad row.

    ``row_numbers`` are the numbers shown to the user (e.g. spreadsheet rows, header = 1);
    by default rows are numbered from 1.
    """
    lookup = Lookup(session, region_id)
    numbers = list(row_numbers) if row_numbers is not None else list(range(1, len(rows) + 1))
    entries: list[EntryInput] = []
    problems: list[Problem] = []
    for raw, number in zip(rows, numbers, strict=True):
        parser = _RowParser(lookup, week_start, number)
        entry = parser.parse(canonical_row(raw))
        problems.extend(parser.problems)
        if entry is not None and not parser.problems:
            entries.append(entry)
    if problems:
        raise CollectionError(problems)
    return entries
