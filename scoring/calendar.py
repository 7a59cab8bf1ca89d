"""Business-calendar arithmetic: covered seconds between instants and deadlines after covered seconds.

This module owns `BusinessCalendar` (the covered hours of an SLA: a weekly wall-clock schedule read in an
IANA time zone, minus customer-defined holidays, plus make-up working days (调休)) and the arithmetic on it:

* `business_seconds` / `business_seconds_array`: covered seconds elapsed between two UTC instants;
* `add_business_seconds`: the earliest instant at which N covered seconds have elapsed (SLA escalation
  deadlines such as "not recovered within 30 minutes of covered time").

Instants are UTC: naive `datetime` (read as UTC), aware `datetime`, or NumPy `datetime64` of any unit.
Each local day's covered intervals are turned into UTC instants with `zoneinfo` (PEP 495, ``fold=0``), so
durations are real elapsed seconds: a 24x7 day in Europe/London lasts 23 h on the spring DST change and
25 h on the autumn one. A wall time that does not exist (inside the spring gap) is read with ``fold=0``
as PEP 495 prescribes, and the interval boundaries are then made non-decreasing, so coverage never runs
backwards. Holidays are local dates; an interval belongs to the local date it starts on.

Method: for the local dates spanned, the covered intervals become a sorted boundary array ``B``
(open, close, open, close, ...) with cumulative covered seconds ``C`` at each boundary. Covered seconds
since the table origin at instant t are ``C[k] + (t - B[k])`` inside an open interval k and ``C[k]``
otherwise, with ``k`` found by `numpy.searchsorted`; a duration is the difference of two such values.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "BusinessCalendar",
    "add_business_seconds",
    "business_seconds",
    "business_seconds_array",
    "business_seconds_from",
]

DAY_SECONDS = 86_400
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EPOCH = datetime(1970, 1, 1)
_EPOCH64 = np.datetime64("1970-01-01T00:00:00", "s")
_RANGE_RE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
# A calendar with no coverage at all would make a deadline search run forever; give up after this span.
_MAX_SEARCH_DAYS = 366 * 5

Interval = tuple[int, int]


def _merge(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    merged: list[list[int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


@dataclass(frozen=True)
class BusinessCalendar:
    """Covered hours: per weekday (0 = Monday) covered wall-clock intervals in seconds from local
    midnight (end may be 86400 = 24:00), holiday dates without coverage, and the IANA zone name.

    Overlapping or touching intervals are merged; holidays are stored as a frozenset.
    """

    weekly: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[date] = frozenset()
    tz: str = "UTC"
    #: Make-up working days (调休): local dates worked on a regular working day's hours (the first
    #: Monday-to-Friday schedule with coverage) whatever their weekday, e.g. a Sunday before a
    #: national holiday. A date listed both here and as a holiday is worked.
    workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError(f"weekly schedule needs 7 weekdays (Monday first), got {len(self.weekly)}")
        for day, intervals in enumerate(self.weekly):
            for start, end in intervals:
                if not 0 <= start < end <= DAY_SECONDS:
                    raise ValueError(
                        f"{_DAY_NAMES[day]}: interval ({start}, {end}) must satisfy 0 <= start < end <= 86400"
                    )
        object.__setattr__(self, "weekly", tuple(_merge(day) for day in self.weekly))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {self.tz!r}") from exc

    @classmethod
    def from_weekly(
        cls,
        schedule: Mapping[int, Sequence[tuple[time, time]]],
        holidays: Iterable[date] = (),
        tz: str = "UTC",
    ) -> BusinessCalendar:
        """Build from ``{weekday: [(time(9), time(18)), ...]}``; an end of ``time(0)`` means 24:00."""

        def seconds(t: time) -> int:
            return t.hour * 3600 + t.minute * 60 + t.second

        weekly = tuple(
            tuple((seconds(s), seconds(e) or DAY_SECONDS) for s, e in schedule.get(day, ()))
            for day in range(7)
        )
        return cls(weekly, frozenset(holidays), tz)

    @classmethod
    def always(cls, holidays: Iterable[date] = (), tz: str = "UTC") -> BusinessCalendar:
        """24x7 coverage (minus ``holidays``, read as local dates in ``tz``)."""
        return cls(tuple(((0, DAY_SECONDS),) for _ in range(7)), frozenset(holidays), tz)

    @classmethod
    def weekdays(
        cls, start: time, end: time, holidays: Iterable[date] = (), tz: str = "UTC"
    ) -> BusinessCalendar:
        """Monday to Friday from ``start`` to ``end`` (``time(0)`` as end means 24:00)."""
        return cls.from_weekly({day: [(start, end)] for day in range(5)}, holidays, tz)

    @classmethod
    def parse(cls, text: str, holidays: Iterable[date] = (), tz: str = "UTC") -> BusinessCalendar:
        """Parse ``"24x7"`` or clauses like ``"mon-fri 09:00-18:00; sat 09:00-12:00"``.

        A clause is ``DAYS RANGES``: DAYS is a day, a day range (``mon-fri``), ``daily``, or a comma list of
        those; RANGES is a comma list of ``HH:MM-HH:MM`` (24:00 allowed as an end; overnight shifts are
        written as two clauses). Raises ValueError naming the offending part.
        """
        if text.strip().lower() == "24x7":
            return cls.always(holidays, tz)
        per_day: list[list[Interval]] = [[] for _ in range(7)]
        clauses = [c.strip() for c in text.split(";")]
        if not any(clauses):
            raise ValueError("empty calendar text: expected '24x7' or e.g. 'mon-fri 09:00-18:00'")
        for clause in clauses:
            if not clause:
                continue
            parts = clause.split(None, 1)
            if len(parts) != 2:
                raise ValueError(
                    f"calendar clause {clause!r}: expected days then times, e.g. 'mon-fri 09:00-18:00'"
                )
            days = _parse_days(parts[0].lower(), clause)
            ranges = [_parse_range(r.strip(), clause) for r in parts[1].split(",")]
            for day in days:
                per_day[day].extend(ranges)
        return cls(tuple(tuple(d) for d in per_day), frozenset(holidays), tz)

    def to_text(self) -> str:
        """The compact text form accepted by `parse` (one clause per weekday with coverage)."""
        if all(day == ((0, DAY_SECONDS),) for day in self.weekly):
            return "24x7"

        def hhmm(s: int) -> str:
            return f"{s // 3600:02d}:{s % 3600 // 60:02d}"

        return "; ".join(
            f"{_DAY_NAMES[d]} " + ",".join(f"{hhmm(s)}-{hhmm(e)}" for s, e in ivs)
            for d, ivs in enumerate(self.weekly)
            if ivs
        )


def _parse_days(spec: str, clause: str) -> list[int]:
    if spec == "daily":
        return list(range(7))
    days: list[int] = []
    for item in spec.split(","):
        ends = item.split("-")
        if len(ends) > 2 or not all(ends):
            raise ValueError(
                f"calendar clause {clause!r}: bad day list {item!r} (e.g. 'mon-fri' or 'sat,sun')"
            )
        for name in ends:
            if name not in _DAY_NAMES:
                raise ValueError(f"calendar clause {clause!r}: unknown day {name!r} (use mon..sun or daily)")
        first, last = _DAY_NAMES.index(ends[0]), _DAY_NAMES.index(ends[-1])
        if last < first:
            raise ValueError(
                f"calendar clause {clause!r}: day range {item!r} runs backwards (write mon..sun order)"
            )
        days.extend(range(first, last + 1))
    return days


def _parse_range(spec: str, clause: str) -> Interval:
    match = _RANGE_RE.match(spec)
    if not match:
        raise ValueError(f"calendar clause {clause!r}: bad time range {spec!r} (expected HH:MM-HH:MM)")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        raise ValueError(f"calendar clause {clause!r}: time out of range in {spec!r} (00:00..24:00)")
    start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
    if end <= start:
        raise ValueError(
            f"calendar clause {clause!r}: range {spec!r} ends before it starts "
            "(split overnight shifts, e.g. 'mon 22:00-24:00; tue 00:00-06:00')"
        )
    return start, end


@functools.lru_cache(maxsize=256)
def _table(cal: BusinessCalendar, first: date, last: date) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Boundaries ``B`` (UTC epoch seconds, open/close alternating) and cumulative covered ``C`` for the
    local dates ``first..last`` inclusive."""
    zone = ZoneInfo(cal.tz)
    bounds: list[float] = []
    day = first
    workday = next((cal.weekly[d] for d in range(5) if cal.weekly[d]), ())
    while day <= last:
        if day not in cal.holidays or day in cal.workdays:
            midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
            for start, end in workday if day in cal.workdays else cal.weekly[day.weekday()]:
                for offset in (start, end):
                    wall = midnight + timedelta(seconds=offset)  # wall-clock arithmetic keeps tzinfo, fold=0
                    bounds.append(wall.timestamp())
        day += timedelta(days=1)
    b = np.maximum.accumulate(np.asarray(bounds, dtype=np.float64)) if bounds else np.zeros(0)
    lengths = np.zeros_like(b)
    lengths[1::2] = b[1::2] - b[0::2]
    c = np.cumsum(lengths)
    b.flags.writeable = c.flags.writeable = False  # cached and shared between calls
    return b, c


def _covered(b: NDArray[np.float64], c: NDArray[np.float64], t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Covered seconds from the table origin to each instant ``t`` (epoch seconds)."""
    if b.size == 0:
        return np.zeros_like(t)
    k = np.searchsorted(b, t, side="right") - 1
    kc = np.clip(k, 0, b.size - 1)
    inside = (k >= 0) & (kc % 2 == 0)
    return np.where(k < 0, 0.0, c[kc] + np.where(inside, t - b[kc], 0.0))


def _local_date(cal: BusinessCalendar, epoch_seconds: float) -> date:
    return datetime.fromtimestamp(epoch_seconds, ZoneInfo(cal.tz)).date()


def _to_epoch(value: datetime) -> float:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return (value - _EPOCH) / timedelta(seconds=1)


def business_seconds(cal: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Covered seconds between two instants: ``covered(end) - covered(start)``, where covered(t) is the
    measure of covered time before t. Negative when ``end < start``. Naive datetimes are read as UTC."""
    s, e = _to_epoch(start), _to_epoch(end)
    first, last = _local_date(cal, min(s, e)), _local_date(cal, max(s, e))
    b, c = _table(cal, first - timedelta(days=1), last + timedelta(days=1))
    covered = _covered(b, c, np.array([s, e]))
    return float(covered[1] - covered[0])


def business_seconds_array(
    cal: BusinessCalendar, starts: NDArray[np.datetime64], ends: NDArray[np.datetime64]
) -> NDArray[np.float64]:
    """Vectorised `business_seconds` over paired UTC ``datetime64`` arrays (any unit); NaT in either
    array gives NaN. One cumulative table over the span of local dates involved, two searchsorted calls."""
    s = (np.asarray(starts) - _EPOCH64) / np.timedelta64(1, "s")
    e = (np.asarray(ends) - _EPOCH64) / np.timedelta64(1, "s")
    s, e = np.broadcast_arrays(np.asarray(s, dtype=np.float64), np.asarray(e, dtype=np.float64))
    out = np.full(s.shape, np.nan)
    valid = ~(np.isnan(s) | np.isnan(e))
    if not valid.any():
        return out
    lo = float(min(s[valid].min(), e[valid].min()))
    hi = float(max(s[valid].max(), e[valid].max()))
    b, c = _table(cal, _local_date(cal, lo) - timedelta(days=1), _local_date(cal, hi) + timedelta(days=1))
    out[valid] = _covered(b, c, e[valid]) - _covered(b, c, s[valid])
    return out


def business_seconds_from(
    cal: BusinessCalendar, starts: NDArray[np.datetime64], ends: Sequence[NDArray[np.datetime64]]
) -> list[NDArray[np.float64]]:
    """``[business_seconds_array(cal, starts, e) for e in ends]`` from one table and one search of
    the starts (a ticket's four durations all run from its opening: eight searches of millions of
    instants became five, issue 19). Covered seconds between whole-second instants are whole
    numbers, exact in floating point from any table origin, so the results are the same numbers;
    fractional instants agree to rounding."""
    s = (np.asarray(starts) - _EPOCH64) / np.timedelta64(1, "s")
    es = [(np.asarray(e) - _EPOCH64) / np.timedelta64(1, "s") for e in ends]
    s = np.asarray(s, dtype=np.float64)
    es = [np.broadcast_to(np.asarray(e, dtype=np.float64), s.shape) for e in es]
    outs = [np.full(s.shape, np.nan) for _ in es]
    valid = [~(np.isnan(s) | np.isnan(e)) for e in es]
    if not any(v.any() for v in valid):
        return outs
    instants = np.concatenate([s[~np.isnan(s)], *(e[v] for e, v in zip(es, valid, strict=True))])
    lo, hi = float(instants.min()), float(instants.max())
    b, c = _table(cal, _local_date(cal, lo) - timedelta(days=1), _local_date(cal, hi) + timedelta(days=1))
    from_start = _covered(b, c, np.where(np.isnan(s), lo, s))
    for out, e, v in zip(outs, es, valid, strict=True):
        out[v] = _covered(b, c, e[v]) - from_start[v]
    return outs


def add_business_seconds(cal: BusinessCalendar, start: datetime, seconds: float) -> datetime:
    """The earliest instant t >= start with ``business_seconds(cal, start, t) == seconds`` (the deadline
    after ``seconds`` of covered time; a deadline never falls inside uncovered time, e.g. Friday 17:30
    plus one covered hour on a 09-18 calendar is Monday 09:30). Returns a naive UTC datetime for a naive
    start, an aware UTC datetime otherwise. Raises ValueError for negative ``seconds`` or when the
    calendar has no coverage for five years after ``start``."""
    if seconds < 0 or np.isnan(seconds):
        raise ValueError(f"seconds must be >= 0, got {seconds}")
    s = _to_epoch(start)
    result = s
    if seconds > 0:
        first = _local_date(cal, s) - timedelta(days=1)
        span = 14
        while True:
            b, c = _table(cal, first, first + timedelta(days=span))
            target = float(_covered(b, c, np.array([s]))[0]) + seconds
            if c.size and c[-1] >= target:
                # Close boundaries (odd k) carry C; the first close reaching target ends the interval we need.
                k = int(np.searchsorted(c[1::2], target, side="left")) * 2 + 1
                result = max(s, float(b[k] - (c[k] - target)))
                break
            if span > _MAX_SEARCH_DAYS:
                raise ValueError(f"calendar has no {seconds} s of coverage within 5 years after {start}")
            span *= 4
    naive = _EPOCH + timedelta(seconds=result)
    return naive if start.tzinfo is None else naive.replace(tzinfo=UTC)
