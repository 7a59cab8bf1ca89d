"""Periods: the ISO week is the base unit (weekly reports, trends); months, quarters and halves
roll up from dates. Week starts are Mondays in the organisation's time zone."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def iso_week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_from_label(label: str) -> date:
    """'2026-W47' -> Monday of that ISO week; ValueError with the reason otherwise."""
    try:
        year_s, week_s = label.upper().split("-W")
        return date.fromisocalendar(int(year_s), int(week_s), 1)
    except (ValueError, TypeError):
        raise ValueError(f"{label!r} is not an ISO week like 2026-W47") from None


def local_date(moment: datetime, tz: str) -> date:
    """The calendar date of a naive-UTC moment in a time zone."""
    from datetime import UTC

    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(ZoneInfo(tz)).date()


def month_start(day: date) -> date:
    return day.replace(day=1)


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def half_year(day: date) -> tuple[date, date]:
    """The half-year (H1: Jan-Jun, H2: Jul-Dec) containing ``day``, as [start, end)."""
    if day.month <= 6:
        return date(day.year, 1, 1), date(day.year, 7, 1)
    return date(day.year, 7, 1), date(day.year + 1, 1, 1)


def parse_day(value: object, field: str) -> date:
    """A calendar date typed or uploaded by a user: ``date``/``datetime`` objects (Excel cells),
    ``2026-03-02``, ``2026/3/2``, ``2026.3.2`` and ``2026年3月2日``. Anything else is a UserError
    naming the field, in zh and en. The one date parser for forms, query strings and uploads."""
    from perception.core.errors import UserError

    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    match = _DAY.fullmatch(text)
    if match:
        try:
            return date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            pass
    raise UserError.one(
        field,
        f"“{text}”不是有效日期，请写成 2026-03-02。",
        f"{text!r} is not a valid date; write it as 2026-03-02.",
        code="invalid_date",
        value=text[:80] or None,
    )


_DAY = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?(?:[ T]00:00(?::00)?)?"
)
