"""Business-calendar arithmetic checked against hand-computed cases, plain subtraction (24x7), a
minute-by-minute brute force that classifies each instant by its local wall time (zoneinfo), and the
add/measure inverse property (hypothesis)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.calendar import (
    BusinessCalendar,
    add_business_seconds,
    business_seconds,
    business_seconds_array,
    business_seconds_from,
)

H = 3600.0
# Mid-Autumn Festival 2024: Monday 16 September is the holiday used below.
SHANGHAI = BusinessCalendar.weekdays(time(9), time(18), holidays={date(2024, 9, 16)}, tz="Asia/Shanghai")
LONDON_9_18 = BusinessCalendar.weekdays(time(9), time(18), tz="Europe/London")


def test_weekend_and_holiday_by_hand() -> None:
    # Opened Friday 2024-09-13 17:30 Shanghai (09:30 UTC); responded Monday 16th 09:45 (01:45 UTC), a holiday.
    # Covered: Friday 17:30-18:00 = 30 min; Saturday, Sunday and the Monday holiday count nothing -> 1800 s.
    opened = datetime(2024, 9, 13, 9, 30)
    assert business_seconds(SHANGHAI, opened, datetime(2024, 9, 16, 1, 45)) == 1800.0
    # Resolved Tuesday 17th 10:15 Shanghai (02:15 UTC): 30 min Friday + Tuesday 09:00-10:15 (75 min) = 6300 s.
    assert business_seconds(SHANGHAI, opened, datetime(2024, 9, 17, 2, 15)) == 6300.0
    # Deadline one covered hour after opening: 30 min on Friday, the other 30 min Tuesday 09:00-09:30 local.
    assert add_business_seconds(SHANGHAI, opened, H) == datetime(2024, 9, 17, 1, 30)


def test_dst_spring_forward_weekday_calendar() -> None:
    # Europe/London moves to BST on Sunday 2024-03-31. Friday 29th 17:00 UTC = 17:00 GMT (1 h to close);
    # Monday 1 April 08:30 UTC = 09:30 BST (30 min after opening) -> 5400 s.
    # Reading Monday in GMT would give 3600.
    assert business_seconds(LONDON_9_18, datetime(2024, 3, 29, 17), datetime(2024, 4, 1, 8, 30)) == 5400.0
    # Monday 09:00 BST is 08:00 UTC: Friday 17:30 GMT + 1 covered hour -> 30 min Friday + 30 min Monday.
    assert add_business_seconds(LONDON_9_18, datetime(2024, 3, 29, 17, 30), H) == datetime(2024, 4, 1, 8, 30)


@pytest.mark.parametrize(
    ("sunday", "hours"), [(date(2024, 3, 31), 23), (date(2024, 10, 27), 25), (date(2024, 6, 2), 24)]
)
def test_dst_day_lengths(sunday: date, hours: int) -> None:
    sundays_only = BusinessCalendar.parse("sun 00:00-24:00", tz="Europe/London")
    start = datetime.combine(sunday - timedelta(days=3), time())
    assert business_seconds(sundays_only, start, start + timedelta(days=7)) == hours * H


def _brute_force(cal: BusinessCalendar, origin: datetime, minutes: int) -> np.ndarray:
    """Covered minutes from ``origin`` (naive UTC) up to each minute, deciding each minute by its local wall
    time: covered when its local date is no holiday and the wall time lies inside that weekday's intervals."""
    zone = ZoneInfo(cal.tz)
    covered = np.zeros(minutes, dtype=np.int64)
    for m in range(minutes):
        local = (origin + timedelta(minutes=m)).replace(tzinfo=UTC).astimezone(zone)
        wall = local.hour * 3600 + local.minute * 60
        if local.date() not in cal.holidays:
            covered[m] = any(s <= wall < e for s, e in cal.weekly[local.weekday()])
    return np.concatenate(([0], np.cumsum(covered)))


@pytest.mark.parametrize("origin", [datetime(2024, 10, 19), datetime(2024, 3, 23)])
def test_array_matches_wall_clock_brute_force_across_dst(origin: datetime) -> None:
    cal = BusinessCalendar.parse(
        "mon-fri 08:30-12:00,13:00-17:00; sat 10:00-14:00; sun 00:00-24:00",
        holidays={date(2024, 10, 29), date(2024, 3, 26)},
        tz="Europe/London",
    )
    minutes = 14 * 24 * 60
    reference = _brute_force(cal, origin, minutes)
    rng = np.random.default_rng(7)
    a, b = rng.integers(0, minutes + 1, 400), rng.integers(0, minutes + 1, 400)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    base = np.datetime64(origin, "s")
    got = business_seconds_array(
        cal, base + lo * np.timedelta64(60, "s"), base + hi * np.timedelta64(60, "s")
    )
    np.testing.assert_array_equal(got, (reference[hi] - reference[lo]) * 60.0)


def test_array_nat_gives_nan_and_any_unit() -> None:
    starts = np.array(["2024-09-13T09:30", "2024-09-13T09:30", "NaT"], dtype="datetime64[m]")
    ends = np.array(["2024-09-16T01:45", "NaT", "2024-09-16T01:45"], dtype="datetime64[ns]")
    got = business_seconds_array(SHANGHAI, starts, ends)
    assert got[0] == 1800.0 and np.isnan(got[1]) and np.isnan(got[2])
    assert np.isnan(business_seconds_array(SHANGHAI, starts[2:], ends[2:])).all()


@pytest.mark.parametrize("cal", [SHANGHAI, LONDON_9_18], ids=["shanghai-holiday", "london-dst"])
def test_several_ends_from_one_start_are_each_pairs_durations(cal: BusinessCalendar) -> None:
    """business_seconds_from (a ticket's four durations from its opening, one table) gives the very
    numbers of business_seconds_array pair by pair: whole-second instants over a holiday and a
    change to summer time, ends before starts, NaT starts and ends, ends spanning a wider range
    than the starts (its table's origin differs) and ends of another unit."""
    rng = np.random.default_rng(11)
    n = 3000
    base = np.datetime64("2024-03-20T00:00:00", "s")
    starts = base + rng.integers(0, 30 * 86400, n).astype("timedelta64[s]")
    starts[::53] = np.datetime64("NaT")
    near = starts + rng.integers(-86400, 5 * 86400, n).astype("timedelta64[s]")
    near[::7] = np.datetime64("NaT")
    far = (base + rng.integers(-200 * 86400, 400 * 86400, n).astype("timedelta64[s]")).astype(
        "datetime64[ms]"
    )
    now = np.where(np.isnat(near), np.datetime64("2024-09-20T03:00:00", "s"), near)
    got = business_seconds_from(cal, starts, [near, far, now])
    for seconds, ends in zip(got, [near, far, now], strict=True):
        np.testing.assert_array_equal(seconds, business_seconds_array(cal, starts, ends))
    assert not np.isnan(got[0]).all() and (got[0] < 0).any()
    assert [len(x) for x in business_seconds_from(cal, starts[:0], [near[:0]])] == [0]
    all_nat = np.full(3, np.datetime64("NaT"), dtype="datetime64[s]")
    assert np.isnan(business_seconds_from(cal, all_nat, [starts[:3]])[0]).all()


def test_aware_datetimes_and_negative_durations() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    opened = datetime(2024, 9, 13, 17, 30, tzinfo=shanghai)
    responded = datetime(2024, 9, 17, 10, 15, tzinfo=shanghai)
    assert business_seconds(SHANGHAI, opened, responded) == 6300.0
    assert business_seconds(SHANGHAI, responded, opened) == -6300.0
    deadline = add_business_seconds(SHANGHAI, opened, 6300.0)
    assert deadline == responded and deadline.tzinfo is not None


instants = st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2026, 12, 31))


@given(
    start=instants, length=st.integers(0, 40 * 86_400_000_000), tz=st.sampled_from(["UTC", "Europe/London"])
)
def test_24x7_is_plain_subtraction(start: datetime, length: int, tz: str) -> None:
    end = start + timedelta(microseconds=length)
    expected = (end - start).total_seconds()
    assert business_seconds(BusinessCalendar.always(tz=tz), start, end) == pytest.approx(expected, abs=1e-5)
    got = business_seconds_array(
        BusinessCalendar.always(tz=tz), np.array([start], "datetime64[us]"), np.array([end], "datetime64[us]")
    )
    assert got[0] == pytest.approx(expected, abs=1e-5)


CALENDARS = [
    SHANGHAI,
    BusinessCalendar.parse("mon-fri 09:00-12:00,13:30-18:00; sat 09:00-12:00", tz="Europe/London"),
    BusinessCalendar.always(holidays={date(2024, 3, 31), date(2024, 12, 25)}, tz="Europe/London"),
]


@settings(max_examples=150, deadline=None)
@given(cal=st.sampled_from(CALENDARS), start=instants, seconds=st.floats(0, 30 * 86_400))
def test_add_then_measure_is_identity(cal: BusinessCalendar, start: datetime, seconds: float) -> None:
    deadline = add_business_seconds(cal, start, seconds)
    assert deadline >= start
    assert business_seconds(cal, start, deadline) == pytest.approx(seconds, abs=1e-5)
    if seconds >= 1:  # earliest such instant: one second earlier, less than `seconds` had elapsed
        assert business_seconds(cal, start, deadline - timedelta(seconds=1)) < seconds


@settings(max_examples=150, deadline=None)
@given(cal=st.sampled_from(CALENDARS), start=instants, length=st.integers(0, 20 * 86_400))
def test_measure_then_add_reaches_end(cal: BusinessCalendar, start: datetime, length: int) -> None:
    end = start + timedelta(seconds=length)
    deadline = add_business_seconds(cal, start, business_seconds(cal, start, end))
    # The deadline is `end`, or (when `end` is uncovered) the last moment covered time accrued before it.
    assert start <= deadline <= end + timedelta(microseconds=1)
    assert business_seconds(cal, deadline, end) == pytest.approx(0.0, abs=1e-5)


def test_parse_builds_schedule_and_round_trips() -> None:
    cal = BusinessCalendar.parse("mon-fri 09:00-18:00; sat 09:00-12:00", tz="Asia/Shanghai")
    assert cal.weekly[0] == ((9 * 3600, 18 * 3600),) and cal.weekly[5] == ((9 * 3600, 12 * 3600),)
    assert cal.weekly[6] == ()
    assert BusinessCalendar.parse(cal.to_text(), tz="Asia/Shanghai") == cal
    assert BusinessCalendar.parse(" 24X7 ") == BusinessCalendar.always()
    assert BusinessCalendar.always().to_text() == "24x7"
    assert BusinessCalendar.parse("daily 00:00-24:00") == BusinessCalendar.always()
    merged = BusinessCalendar.parse("sat,sun 09:00-12:00, 11:00-13:00; sun 13:00-14:00")
    assert merged.weekly[5] == ((9 * 3600, 13 * 3600),) and merged.weekly[6] == ((9 * 3600, 14 * 3600),)
    assert BusinessCalendar.from_weekly({0: [(time(9), time(18))]}) == BusinessCalendar.parse(
        "mon 09:00-18:00"
    )
    assert BusinessCalendar.weekdays(time(20), time(0)).weekly[4] == ((20 * 3600, 86_400),)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty calendar"),
        ("mon-fx 09:00-18:00", "unknown day 'fx'"),
        ("fri-mon 09:00-18:00", "'fri-mon' runs backwards"),
        ("mon--fri 09:00-18:00", "bad day list 'mon--fri'"),
        ("mon-fri 9h-18h", "bad time range '9h-18h'"),
        ("mon-fri 09:00-25:00", "time out of range in '09:00-25:00'"),
        ("mon-fri 09:00-24:30", "time out of range in '09:00-24:30'"),
        ("mon 22:00-06:00", "'22:00-06:00' ends before it starts"),
        ("mon-fri", "clause 'mon-fri': expected days then times"),
        ("mon-fri 09:00-18:00; sat 09:60-12:00", "clause 'sat 09:60-12:00'"),
    ],
)
def test_parse_errors_name_the_bad_part(text: str, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        BusinessCalendar.parse(text)
    assert fragment in str(info.value)


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="unknown IANA time zone 'Mars/Olympus'"):
        BusinessCalendar.always(tz="Mars/Olympus")
    with pytest.raises(ValueError, match="7 weekdays"):
        BusinessCalendar(weekly=((),))
    with pytest.raises(ValueError, match="0 <= start < end <= 86400"):
        BusinessCalendar(weekly=(((0, 90_000),),) + ((),) * 6)
    with pytest.raises(ValueError, match="seconds must be >= 0"):
        add_business_seconds(SHANGHAI, datetime(2024, 1, 1), -1.0)
    never = BusinessCalendar(weekly=((),) * 7)
    with pytest.raises(ValueError, match="no 60 s of coverage"):
        add_business_seconds(never, datetime(2024, 1, 1), 60)
    assert business_seconds(never, datetime(2024, 1, 1), datetime(2024, 2, 1)) == 0.0


def test_make_up_working_days_are_covered_like_a_weekday():
    """Issue 14: the business calendar knows make-up working days (调休), not only holidays.
    China 2025: 1-8 October off, Sunday 28 September and Saturday 11 October worked."""
    from datetime import date, datetime, time

    from scoring.calendar import BusinessCalendar, business_seconds

    holidays = {date(2025, 10, d) for d in range(1, 9)}
    workdays = {date(2025, 9, 28), date(2025, 10, 11)}
    plain = BusinessCalendar.weekdays(time(9), time(18), holidays, tz="Asia/Shanghai")
    cal = BusinessCalendar(plain.weekly, plain.holidays, plain.tz, frozenset(workdays))
    # Saturday 27 Sep 00:00 to Monday 29 Sep 00:00 Shanghai (= Friday 16:00 UTC to Sunday 16:00 UTC).
    start, end = datetime(2025, 9, 26, 16), datetime(2025, 9, 28, 16)
    assert business_seconds(plain, start, end) == 0
    assert business_seconds(cal, start, end) == 9 * 3600  # Sunday worked 09:00-18:00
    # 30 Sep 00:00 to 12 Oct 00:00: Tuesday 30 Sep, Thursday 9 and Friday 10 Oct, and the make-up
    # Saturday 11 Oct (hand count: 4 days of 9 hours; without the make-up day 3).
    assert business_seconds(cal, datetime(2025, 9, 29, 16), datetime(2025, 10, 11, 16)) == 4 * 9 * 3600
    assert business_seconds(plain, datetime(2025, 9, 29, 16), datetime(2025, 10, 11, 16)) == 3 * 9 * 3600
    # A make-up day that is also listed as a holiday is worked.
    both = BusinessCalendar(
        plain.weekly, frozenset(holidays | {date(2025, 9, 28)}), plain.tz, frozenset(workdays)
    )
    assert business_seconds(both, start, end) == 9 * 3600
