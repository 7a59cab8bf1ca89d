"""Whether a pre-aggregate of the experience facts may be read, and up to which week (issue 19).

The analysis pages read pre-aggregates of the facts (the weekly sums, the perception index's sums,
the per-respondent table, the running sums): each records, when it is built, the facts' write
signature (``stamp``). Until now a pre-aggregate was read only while that signature equalled the
current one, so at a national provider's size, with answers arriving all day, every answer made it
stale and the pages read the 9M facts (seconds) until the next full rebuild (minutes).

A survey answer is written for the current week and says so (data_version.current_week_write); it
leaves the counter of the past weeks' facts (data_version.EXPERIENCE_PAST) alone. So the stamp also
records that counter and the split week: the Monday of the current week as the westernmost time
zone (UTC-12) sees it when the build starts, which is no later than the week any later declared
answer names in its own zone. While the past counter stands, the pre-aggregate's weeks before the
split are exactly the facts' (no write has touched them since), and only the weeks from the split on
must be read from the facts (``Reading.PARTIAL``): the current week's few rows, through the period
index. Every statistic the pre-aggregates hold is a sum over weeks (or over respondents, each of
whom lies in one week unless ``spans`` says otherwise), so the two parts add up to the facts' figure.

Public API: ``Freshness``, ``Reading``, ``stamp``, ``reading``, ``split_week_now``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

#: The westernmost offset (UTC-12): its date is no later than any zone's at the same moment.
_WESTERNMOST = timedelta(hours=12)


class Freshness(enum.StrEnum):
    ABSENT = "absent"  # no write counters, no table, or never built
    CURRENT = "current"  # built from the facts as they are now
    PARTIAL = "partial"  # its weeks before ``split`` are the facts'; later weeks come from the facts
    STALE = "stale"  # the past weeks changed since: the facts until it is rebuilt


@dataclass(frozen=True)
class Reading:
    freshness: Freshness
    #: PARTIAL (and CURRENT, when recorded): the first week not taken from the pre-aggregate.
    split: date | None = None

    @property
    def usable(self) -> bool:
        """Whether the pre-aggregate may be read at all (wholly, or before ``split``)."""
        return self.freshness in (Freshness.CURRENT, Freshness.PARTIAL)

    @property
    def facts_from(self) -> date | None:
        """The first week to read from the facts rather than the pre-aggregate (None: none)."""
        return self.split if self.freshness is Freshness.PARTIAL else None


def split_week_now() -> date:
    """Monday of the current week as the westernmost zone sees it now (see the module docstring)."""
    day = (datetime.now(UTC) - _WESTERNMOST).date()
    return day - timedelta(days=day.weekday())


def _versions(session: Session) -> tuple[str, str] | None:
    """The facts' write signature and the past weeks' one; None before the counters' table."""
    from perception.kpi.services.data_version import EXPERIENCE_FACTS, EXPERIENCE_PAST, read_version

    try:
        with session.begin_nested():
            facts = read_version(session, EXPERIENCE_FACTS)
            past = read_version(session, EXPERIENCE_PAST)
    except (OperationalError, ProgrammingError):
        return None
    return "dv:" + ":".join(map(str, facts)), "past:" + ":".join(map(str, past))


def stamp(session: Session, split: date | None = None) -> str | None:
    """The signature a pre-aggregate built now records: the facts' and the past weeks' counters and
    the split week (``split``, default ``split_week_now()``). Read it before reading the facts: a
    write committed in between then makes the pre-aggregate look older than it is, never newer."""
    versions = _versions(session)
    if versions is None:
        return None
    week = split or split_week_now()
    return f"{versions[0]}|{versions[1]}|from:{week.isoformat()}"


def reading(session: Session, recorded: str | None) -> Reading:
    """How far a pre-aggregate that recorded ``recorded`` (its ``stamp``; a signature of the facts
    alone, from before the split existed, is current or stale) matches the facts right now."""
    if recorded is None:
        return Reading(Freshness.ABSENT)
    versions = _versions(session)
    if versions is None:
        return Reading(Freshness.ABSENT)
    facts, past = versions
    parts = recorded.split("|")
    split = None
    if len(parts) == 3 and parts[2].startswith("from:"):
        split = date.fromisoformat(parts[2][5:])
    if parts[0] == facts:
        return Reading(Freshness.CURRENT, split)
    if split is None or parts[1] != past:
        return Reading(Freshness.STALE)
    from perception.kpi.services.data_version import declared_weeks

    if any(week < split for week in declared_weeks(session)):
        return Reading(Freshness.STALE)  # this transaction's own rows, to be counted as past ones
    return Reading(Freshness.PARTIAL, split)
