"""Vectorised date-time handling for tickets: parsing, local time <-> UTC, and period starts.

Service-desk exports write local wall-clock times ("2026-03-02 09:15"); we store naive UTC. Parsing
uses NumPy's ISO 8601 reader for the whole column at once; when that fails (slashes and one-digit
fields as a Chinese Excel writes them, "2026/3/2 9:15", explicit offsets such as "+08:00" or "Z", a
bad value), the column is read by *shape*: each value's digits are masked ("2026/3/2 9:15" and
"2026/12/31 23:05" differ in shape, "2026/3/2 9:15" and "2025/7/8 6:40" do not), the grammar
(``_SLOW``) is matched once per distinct shape, and every value of a shape that matches has its
fields at the same positions, read as NumPy digit arrays. A column of a million values holds a
handful of shapes, so no Python runs per value; ``_slow_one`` parses the values whose shape is not
ASCII (other Unicode digits) or that are long, one at a time, with the same grammar.
Local -> UTC uses the zone's UTC offset per distinct local hour (zoneinfo, PEP 495 ``fold=0`` for
ambiguous or missing wall times), so a million values need a few thousand zoneinfo calls.
Periods: ISO weeks start on Monday (perception.core.periods.week_start), months on the 1st, quarters
on Jan/Apr/Jul/Oct 1st.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

Moments = NDArray[np.datetime64]

_SLOW = re.compile(
    r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,]\d+)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?\s*$",
    re.IGNORECASE,
)
_MIN_LEN, _MAX_LEN = 16, 26  # "2026-03-02 09:15" .. "2026-03-02T09:15:00.123456"
_NAT = np.datetime64("NaT", "s")
_ASCII_DIGITS = frozenset("0123456789")
_FIRST, _LAST = np.datetime64("0001-01-01T00:00:00", "s"), np.datetime64("9999-12-31T23:59:59", "s")


def _slow_one(text: str) -> tuple[np.datetime64, bool] | None:
    """(moment, is_utc) for one value, or None when it is not a date-time."""
    match = _SLOW.match(text)
    if not match:
        return None
    y, mo, d, h, mi, s, zone = match.groups()
    try:
        moment = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0))
    except ValueError:
        return None
    if zone is None:
        return np.datetime64(moment, "s"), False
    if zone.upper() != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        moment -= sign * offset
    return np.datetime64(moment, "s"), True


def parse_datetimes(values: list[str]) -> tuple[Moments, NDArray[np.bool_], list[int]]:
    """Parse a column: (moments as datetime64[s], NaT where empty; mask of values that carried an
    explicit offset and are already UTC; indices of values that are not date-times)."""
    lengths = set(map(len, values)) - {0}
    if all(_MIN_LEN <= k <= _MAX_LEN for k in lengths) and _iso_candidates(values):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # an offset makes NumPy warn: read by shape
                moments = np.array(values, dtype="datetime64[s]")
        except (ValueError, UserWarning, DeprecationWarning):
            pass
        else:
            valid = moments[~np.isnat(moments)]
            if not valid.size or (valid.min() >= _FIRST and valid.max() <= _LAST):
                return moments, np.zeros(len(values), dtype=bool), []
    return _parse_by_shape(values)


def _iso_candidates(values: list[str]) -> bool:
    """Whether every value begins and ends with a digit and has a four-digit year. NumPy's reader
    takes, beside the values ``_SLOW`` takes, an hour alone padded with spaces ("2026-03-02 09   "),
    a trailing "." and years 0, of fewer than four digits or past 9999, which ``_slow_one``
    refuses: such a column is read by shape, so that a value's verdict never depends on the other
    values of its column."""
    filled = list(filter(None, values))
    ends = set(map(itemgetter(0), filled)) | set(map(itemgetter(-1), filled))
    # NumPy also reads a year of fewer digits ("1-10-10 10:00:00" as year 1), which ``_SLOW``'s
    # four refuse: four digits, then the dash (every value here has at least 16 characters).
    year = set().union(*(map(itemgetter(k), filled) for k in range(1, 4)))
    return ends | year <= _ASCII_DIGITS and set(map(itemgetter(4), filled)) <= {"-"}


_DIGITS_MASKED = str.maketrans("123456789", "000000000")
_SHAPE_MAX_LEN = 40  # longer values are parsed one by one (none of an export's date-times is)


def _parse_by_shape(values: list[str]) -> tuple[Moments, NDArray[np.bool_], list[int]]:
    """``parse_datetimes`` value by value in effect, shape by shape in work (the module docstring)."""
    n = len(values)
    out = np.full(n, _NAT)
    is_utc = np.zeros(n, dtype=bool)
    bad: list[int] = []

    def one_by_one(indices: list[int]) -> None:
        for i in indices:
            parsed = _slow_one(values[i])
            if parsed is None:
                bad.append(i)
            else:
                out[i], is_utc[i] = parsed

    lengths = np.fromiter(map(len, values), np.uint32, n)
    # a long value (a description in the wrong column) would widen the array of every value
    short = np.flatnonzero(lengths <= _SHAPE_MAX_LEN)
    one_by_one(np.flatnonzero(lengths > _SHAPE_MAX_LEN).tolist())
    if short.size:
        texts = values if short.size == n else [values[i] for i in short.tolist()]
        codes = np.array(texts, dtype=str)
        codes = codes.view(np.uint32).reshape(short.size, codes.dtype.itemsize // 4)
        # a value's shape: its characters with every digit 0, and its length (NumPy pads with NULs)
        masked = np.where((codes > 48) & (codes <= 57), 48, codes)
        first, shape_of = _shapes(masked, lengths[short])
        order = np.argsort(shape_of, kind="stable")
        ends = np.cumsum(np.bincount(shape_of))
        for k, example in enumerate(first.tolist()):
            at = order[ends[k - 1] if k else 0 : ends[k]]  # positions in ``short``
            rows = short[at]
            shape = texts[example].translate(_DIGITS_MASKED)
            if not shape:
                continue  # empty: not yet (NaT), not a problem
            if not shape.isascii():  # e.g. full-width digits, which \d matches too
                one_by_one(rows.tolist())
                continue
            match = _SLOW.match(shape)  # digits masked as 0: the same match as each value's
            if match is None:
                bad += rows.tolist()
                continue
            moments, valid = _moments_of_shape(match, codes[at])
            out[rows[valid]] = moments[valid]
            is_utc[rows[valid]] = match.group(7) is not None
            bad += rows[~valid].tolist()
    bad.sort()
    return out, is_utc, bad


def _shapes(
    masked: NDArray[np.uint32], lengths: NDArray[np.uint32]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The distinct rows of (``masked``, ``lengths``): the first index of each and each row's
    number among them. Rows are told apart by a 64-bit polynomial hash (a sort of integers, not of
    byte strings); should two shapes share a hash, the rows are compared whole instead."""
    key = lengths.astype(np.uint64)
    for column in masked.T:
        key = key * np.uint64(1_000_003) + column  # wraps modulo 2**64
    _, first, shape_of = np.unique(key, return_index=True, return_inverse=True)
    if (masked == masked[first][shape_of]).all() and (lengths == lengths[first][shape_of]).all():
        return first, shape_of
    rows = np.ascontiguousarray(np.column_stack([masked, lengths]))
    _, first, shape_of = np.unique(
        rows.view(f"V{rows.shape[1] * 4}").ravel(), return_index=True, return_inverse=True
    )
    return first, shape_of


def _moments_of_shape(match: re.Match[str], codes: NDArray[np.uint32]) -> tuple[Moments, NDArray[np.bool_]]:
    """The moments of values sharing one shape (``codes``: their characters' code points, a row
    each), whose fields sit where ``match`` found them, and which of them are real date-times (what
    ``datetime(...)`` accepts)."""

    def digit(position: int) -> NDArray[np.int64]:
        return codes[:, position].astype(np.int64) - 48

    def number(group: int) -> NDArray[np.int64]:
        start, end = match.span(group)
        value = np.zeros(len(codes), dtype=np.int64)
        for position in range(start, end):  # none when the group is absent (-1, -1)
            value = value * 10 + digit(position)
        return value

    year, month, day = number(1), number(2), number(3)
    hour, minute, second = number(4), number(5), number(6)
    valid = (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1)
    valid &= (hour <= 23) & (minute <= 59) & (second <= 59)
    months = np.where(valid, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
    first_day = months.astype("datetime64[D]")
    valid &= day <= ((months + 1).astype("datetime64[D]") - first_day).astype(np.int64)
    seconds = (day - 1) * 86400 + hour * 3600 + minute * 60 + second
    zone = match.group(7)
    if zone is not None and zone.upper() != "Z":
        start, _ = match.span(7)
        positions = [start + 1 + k for k, c in enumerate(zone[1:]) if c != ":"]
        hours = digit(positions[0]) * 10 + digit(positions[1])
        minutes = digit(positions[2]) * 10 + digit(positions[3])
        seconds -= (-1 if zone[0] == "-" else 1) * (hours * 3600 + minutes * 60)
    moments = first_day.astype("datetime64[s]") + seconds.astype("timedelta64[s]")
    # an offset that takes a moment out of years 1-9999 (where the one-value parser overflows)
    valid &= (moments >= _FIRST) & (moments <= _LAST)
    return moments, valid


# (zone, local?) -> {hour as epoch seconds: UTC offset in seconds}. An import read in chunks asks
# for the same few thousand hours in every chunk; zoneinfo is asked once per hour and zone.
_OFFSETS: dict[tuple[str, bool], dict[int, int]] = {}
_OFFSETS_LIMIT = 500_000  # hours kept per zone (57 years); past it the zone's table starts again


def _offsets(hours: NDArray[np.datetime64], zone: ZoneInfo, *, local: bool) -> NDArray[np.int64]:
    """UTC offset in seconds for each distinct hour (local wall hours, or UTC hours)."""
    known = _OFFSETS.setdefault((zone.key, local), {})
    if len(known) > _OFFSETS_LIMIT:
        known.clear()
    out = np.empty(hours.size, dtype=np.int64)
    for i, h in enumerate(hours.astype("datetime64[s]").astype(np.int64).tolist()):
        offset = known.get(h)
        if offset is None:
            if local:
                wall = datetime(1970, 1, 1) + timedelta(seconds=h)
                delta = wall.replace(tzinfo=zone).utcoffset()
            else:
                delta = datetime.fromtimestamp(h, UTC).astimezone(zone).utcoffset()
            offset = known[h] = int(delta.total_seconds()) if delta is not None else 0
        out[i] = offset
    return out


def day_start_window(day: date, zones: Iterable[str]) -> tuple[datetime, datetime]:
    """Naive UTC bounds of the first moment of ``day`` in any of ``zones``, as utc_to_local
    measures local days: a moment ``t`` whose local day is ``day`` or later is at or after the
    first bound, one whose local day is before ``day`` is before the second. utc_to_local takes
    each moment's offset at the start of its UTC hour, and an offset is under a day, so the offsets
    of the UTC hours from a day before midnight to a day after bound it (issue 19: a week's
    tickets read with these bounds, not with a day's margin either side)."""
    midnight = datetime.combine(day, datetime.min.time())
    base = np.datetime64(midnight, "h")
    hours = base + np.arange(-25, 26).astype("timedelta64[h]")
    offsets = np.concatenate([_offsets(hours, ZoneInfo(z), local=False) for z in sorted(set(zones))])
    return (
        midnight - timedelta(seconds=int(offsets.max())),
        midnight - timedelta(seconds=int(offsets.min())),
    )


def _distinct_hours(moments: Moments) -> tuple[NDArray[np.datetime64], NDArray[np.intp]]:
    """The distinct hours of ``moments`` (sorted) and each moment's position among them, as
    ``np.unique(..., return_inverse=True)`` gives them. Tickets span months, a few thousand hours:
    while the span is not much longer than the column, a mark per hour of the span replaces the
    sort of a million values."""
    hours = moments.astype("datetime64[h]").astype(np.int64)
    low, high = int(hours.min()), int(hours.max())
    if high - low > 4 * hours.size + 4096:
        distinct, inverse = np.unique(hours, return_inverse=True)
        return distinct.astype("datetime64[h]"), inverse
    present = np.zeros(high - low + 1, dtype=bool)
    present[hours - low] = True
    position = np.cumsum(present) - 1
    return (np.flatnonzero(present) + low).astype("datetime64[h]"), position[hours - low]


def local_to_utc(moments: Moments, tz: str) -> Moments:
    """Wall-clock times in ``tz`` -> naive UTC (NaT stays NaT)."""
    result = moments.astype("datetime64[s]", copy=True)
    valid = ~np.isnat(result)
    if not valid.any():
        return result
    hours, inverse = _distinct_hours(result[valid])
    offsets = _offsets(hours, ZoneInfo(tz), local=True)
    result[valid] = result[valid] - offsets[inverse].astype("timedelta64[s]")
    return result


def utc_to_local(moments: Moments, tz: str) -> Moments:
    """Naive UTC -> wall-clock times in ``tz`` (NaT stays NaT)."""
    result = moments.astype("datetime64[s]", copy=True)
    valid = ~np.isnat(result)
    if not valid.any():
        return result
    hours, inverse = _distinct_hours(result[valid])
    offsets = _offsets(hours, ZoneInfo(tz), local=False)
    result[valid] = result[valid] + offsets[inverse].astype("timedelta64[s]")
    return result


def period_starts(days: NDArray[np.datetime64], granularity: str) -> NDArray[np.datetime64]:
    """The first day of the week (Monday) / month / quarter containing each day (datetime64[D])."""
    d = days.astype("datetime64[D]")
    if granularity == "week":
        weekday = (d.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
        return d - weekday.astype("timedelta64[D]")
    months = d.astype("datetime64[M]")
    if granularity == "month":
        return months.astype("datetime64[D]")
    if granularity == "quarter":
        m = months.astype(np.int64)
        return (m - m % 3).astype("datetime64[M]").astype("datetime64[D]")
    raise ValueError(f"unknown granularity {granularity!r}")


def period_start(day: date, granularity: str) -> date:
    start = period_starts(np.array([day], dtype="datetime64[D]"), granularity)[0]
    return date.fromisoformat(str(start))


def period_end(start: date, granularity: str) -> date:
    """Exclusive end of the period starting on ``start``."""
    if granularity == "week":
        return start + timedelta(days=7)
    months = 1 if granularity == "month" else 3
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def period_label(start: date, granularity: str) -> str:
    if granularity == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if granularity == "month":
        return f"{start.year}-{start.month:02d}"
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


_PERIOD = re.compile(r"^\s*(\d{4})-(?:W(\d{1,2})|Q([1-4])|(\d{1,2}))\s*$", re.IGNORECASE)


def parse_period(text: str) -> tuple[date, str] | None:
    """'2026-W09' / '2026-03' / '2026-Q1' / a date (its ISO week) -> (start, granularity)."""
    match = _PERIOD.match(text)
    if match:
        year, week, quarter, month = match.groups()
        try:
            if week:
                return date.fromisocalendar(int(year), int(week), 1), "week"
            if quarter:
                return date(int(year), 3 * (int(quarter) - 1) + 1, 1), "quarter"
            return date(int(year), int(month), 1), "month"
        except ValueError:
            return None
    try:
        day = date.fromisoformat(text.strip().replace("/", "-"))
    except ValueError:
        return None
    return period_start(day, "week"), "week"


def to_epoch(moments: Moments) -> NDArray[np.float64]:
    """Seconds since 1970 as float64, NaN for NaT."""
    out = moments.astype("datetime64[s]").astype(np.int64).astype(np.float64)
    out[np.isnat(moments)] = np.nan
    return out
