"""The pre-aggregates' split is the week UTC is in (data_version.reference_monday), and a declared
write of an earlier week is logged at its commit (issue 19). Until session 15 the split was the
westernmost zone's (UTC-12) Monday, so in China every page after an answer read a whole week more
of facts from Monday 00:00 to 20:00: the working day of the week's review. Now the reference week
begins at 08:00 on Monday there, and a writer west of UTC whose current week UTC has already left
(New York on a Sunday evening) logs its week, so the pages still read it from the facts.

The clock is pinned through data_version's one source of "now" (the commit's rule and the readers'
split read the same one).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from perception.analysis.services.freshness import Freshness, prune_week_log, split_week_now
from perception.analysis.services.rollup import refresh_rollup, rollup_reading
from perception.core.models.facts import ExperienceObservation as Obs
from perception.kpi.models import ExperienceWeekLog
from perception.kpi.services import data_version
from perception.kpi.services.data_version import CHANGE_LOOK, read_version, week_write
from tests.analysis.test_lead_week_split import _fact, _same_as_facts, _seed

ZONES = (
    "Pacific/Kiritimati",  # UTC+14
    "Asia/Shanghai",
    "UTC",
    "America/New_York",
    "Pacific/Pago_Pago",  # UTC-11
    "Etc/GMT+12",  # UTC-12
)
# A Sunday and a Monday of 2026, every few hours: the hours when the zones disagree on the week.
MOMENTS = [datetime(2026, 11, 29, 0, tzinfo=UTC) + timedelta(hours=h) for h in range(0, 48, 5)]


def _monday_in(moment: datetime, zone: str) -> date:
    day = moment.astimezone(ZoneInfo(zone)).date()
    return day - timedelta(days=day.weekday())


def _pin(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setattr(data_version, "_utc_now", lambda: moment)


@pytest.mark.parametrize("zone", ZONES)
def test_an_answer_of_its_zones_week_is_at_or_after_the_split_or_logged(monkeypatch, zone):
    """For a pre-aggregate built at any moment and an answer committed then or later in any zone:
    the answer's week is read from the facts (at or after the build's split) or is logged."""
    for built in MOMENTS:
        _pin(monkeypatch, built)
        split = split_week_now()
        assert split == _monday_in(built, "UTC")
        for later in (built, built + timedelta(hours=3), built + timedelta(hours=30)):
            _pin(monkeypatch, later)
            week = _monday_in(later, zone)  # the week the answer names: its zone's current one
            logged = week < data_version.reference_monday()
            assert week >= split or logged, (zone, built, later)


def _committed_declared(session: Session, rng: random.Random, week: date, zone: str) -> None:
    with week_write(session.connection(), "experience_observation", week, zone):
        session.execute(insert(Obs), [_fact(rng, week, 70 + n, 1, 1, 1) for n in range(3)])
    session.commit()


def test_a_sunday_evening_answer_west_of_utc_is_logged_and_read_from_the_facts(engine, monkeypatch):
    monday_morning_utc = datetime(2026, 11, 30, 3, tzinfo=UTC)  # Sunday 22:00 in New York
    _pin(monkeypatch, monday_morning_utc)
    rng = random.Random(31)
    new_york_week = _monday_in(monday_morning_utc, "America/New_York")
    split = split_week_now()
    assert new_york_week == split - timedelta(weeks=1)
    with Session(engine) as session:
        _seed(session, rng, split)
        refresh_rollup(session)
        session.commit()
        assert rollup_reading(session).freshness is Freshness.CURRENT
        look = read_version(session, CHANGE_LOOK)[0]

        _committed_declared(session, rng, new_york_week, "America/New_York")
        found = rollup_reading(session)
        assert found.freshness is Freshness.PARTIAL and found.facts_from == new_york_week
        assert session.scalars(select(ExperienceWeekLog.period_start)).all() == [new_york_week]
        # The week is New York's current one: the change look's past weeks are untouched.
        assert read_version(session, CHANGE_LOOK)[0] == look
        _same_as_facts(session, split)

        # Shanghai's answer at the same moment names the reference week: nothing logged.
        _committed_declared(session, rng, _monday_in(monday_morning_utc, "Asia/Shanghai"), "Asia/Shanghai")
        assert session.scalars(select(ExperienceWeekLog.period_start)).all() == [new_york_week]
        assert rollup_reading(session).facts_from == new_york_week
        _same_as_facts(session, split)
        assert refresh_rollup(session) is not None
        session.commit()
        assert rollup_reading(session).freshness is Freshness.CURRENT
        _same_as_facts(session, split)
        # Every pre-aggregate was rebuilt past the logged week: nobody looks for it any more.
        assert session.scalars(select(ExperienceWeekLog.period_start)).all() == []


def test_the_log_keeps_what_the_oldest_pre_aggregate_still_looks_for(engine):
    week = date(2026, 11, 23)
    with Session(engine) as session:
        session.add_all([ExperienceWeekLog(seq=n, period_start=week) for n in range(1, 6)])
        session.flush()
        stamp = "dv:1:0:0|past:1:0:0|from:2026-11-30|log:{}"
        assert prune_week_log(session, [stamp.format(5), None]) == 0  # a pre-aggregate never built
        assert prune_week_log(session, [stamp.format(5), "dv:1:0:0"]) == 0  # stamped before the log
        assert prune_week_log(session, [stamp.format(5), stamp.format(3), stamp.format(4)]) == 3
        assert session.scalars(select(ExperienceWeekLog.seq).order_by(ExperienceWeekLog.seq)).all() == [4, 5]
        session.rollback()


def test_in_china_the_split_is_the_weeks_monday_from_8_in_the_morning(monkeypatch):
    for hour, expected in ((7, date(2026, 11, 30)), (8, date(2026, 12, 7)), (20, date(2026, 12, 7))):
        local = datetime(2026, 12, 7, hour, tzinfo=ZoneInfo("Asia/Shanghai"))
        _pin(monkeypatch, local.astimezone(UTC))
        assert split_week_now() == expected, hour
