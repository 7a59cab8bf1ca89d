"""Whether a pre-aggregate of the experience facts may be read, and up to which week (issue 19).

The analysis pages read pre-aggregates of the facts (the weekly sums, the perception index's sums,
the per-respondent table, the running sums): each records, when it is built, the facts' write
signature (``stamp``). Until now a pre-aggregate was read only while that signature equalled the
current one, so at a national provider's size, with answers arriving all day, every answer made it
stale and the pages read the 9M facts (seconds) until the next full rebuild (minutes).

A survey answer is written for the current week and says so (data_version.current_week_write); it
leaves the counter of the past weeks' facts (data_version.EXPERIENCE_PAST) alone. So the stamp also
records that counter and the split week: the Monday of the current week as UTC sees it when the
build starts (data_version.reference_monday). A declared write committed later names that week or
a later one, or its week is earlier than the reference week at its commit and is logged (below).
In China the reference week begins at 08:00 on Monday, before the working day, so from then on a
page after an answer reads the week's answers from the facts, not the week before too (the
westernmost zone's Monday, used until session 15, cost a week more of facts for 20 hours of every
week in Asia; a zone west of UTC now logs its answers of Sunday evening instead). While the past
counter stands, the pre-aggregate's weeks before the split are exactly the facts' (no write has
touched them since), and only the weeks from the split on must be read from the facts
(``Reading.PARTIAL``): the current week's few rows, through the period index. Every statistic the
pre-aggregates hold is a sum over weeks (or over respondents, most of whom lie in one week), so
the two parts add up to the facts' figure.

A weekly report's facts are rows of a past week, declared so (data_version.week_write), as are
answers naming a week before the reference week: instead of
making the pre-aggregates stale they log their week (experience_week_log, numbered in commit order),
and the split moves back to the earliest week logged since the pre-aggregate was built, so the pages
read a week or two from the facts instead of all of them, and the refresh rebuilds those weeks.

A page asks for the same reading several times (the weekly sums by each of its parts, the
respondents' table by the drivers and the reliability): ``once_per_transaction`` takes it once per
transaction, until the transaction writes (a flush, or an uncommitted write to the facts), so a
page pays its counters' and state rows' queries once, and reads every part as of the same
reading. The same holds for anything read from the facts that several parts of a page share (the
respondents of the split's weeks, read once for the experience page's three samples).

Public API: ``Freshness``, ``Reading``, ``stamp``, ``reading``, ``split_week_now``, ``record_refresh``,
``once_per_transaction``, ``state_reading``, ``prune_week_log``, ``logged_number``,
``weeks_written_since``.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar, cast

from sqlalchemy import delete, event, func, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, scoped_session

#: session.info: the readings taken in the current transaction, and the flushes counted.
_READINGS = "perception.freshness.readings"
_FLUSHES = "perception.freshness.flushes"

T = TypeVar("T")


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
    """Monday of the current week as UTC sees it now (data_version.reference_monday; the module
    docstring)."""
    from perception.kpi.services.data_version import reference_monday

    return reference_monday()


def _versions(session: Session) -> tuple[str, str, int] | None:
    """The facts' write signature, the past weeks' one and the week log's number (the last logged
    week's); None before the counters' table."""
    from perception.kpi.services.data_version import (
        EXPERIENCE_FACTS,
        EXPERIENCE_PAST,
        EXPERIENCE_WEEK_LOG,
        read_versions,
    )

    try:
        with session.begin_nested():
            # One statement: the log's number is of the same commits as the counters, so a week
            # logged after it is looked for by every reader.
            versions = read_versions(session, (EXPERIENCE_WEEK_LOG, EXPERIENCE_FACTS, EXPERIENCE_PAST))
    except (OperationalError, ProgrammingError):
        return None
    logged, facts, past = (
        versions[EXPERIENCE_WEEK_LOG][0],
        versions[EXPERIENCE_FACTS],
        versions[EXPERIENCE_PAST],
    )
    return "dv:" + ":".join(map(str, facts)), "past:" + ":".join(map(str, past)), logged


def rollup_written(session: Session) -> tuple[str, int] | None:
    """What the scheduler watches to rebuild the pre-aggregates soon after a write that made them
    stale (perception.core.phase.Periodic.when_changed): the past weeks' signature and the week
    log's number. Not the facts' own counter: every survey answer of the current week moves it,
    and the pre-aggregates read that week from the facts anyway."""
    versions = _versions(session)
    return None if versions is None else (versions[1], versions[2])


def stamp(session: Session, split: date | None = None) -> str | None:
    """The signature a pre-aggregate built now records: the facts' and the past weeks' counters, the
    split week (``split``, default ``split_week_now()``) and the week log's number. Take it before
    reading the facts: a write committed in between then makes the pre-aggregate look older than
    it is, never newer."""
    versions = _versions(session)
    if versions is None:
        return None
    week = split or split_week_now()
    return f"{versions[0]}|{versions[1]}|from:{week.isoformat()}|log:{versions[2]}"


def reading(session: Session, recorded: str | None) -> Reading:
    """How far a pre-aggregate that recorded ``recorded`` (its ``stamp``; a signature of the facts
    alone, from before the split existed, is current or stale) matches the facts right now: the
    split is the recorded one, or the earliest week a declared writer logged since (a weekly report
    of last week), or this transaction's own declared rows' week if earlier."""
    if recorded is None:
        return Reading(Freshness.ABSENT)
    versions = _versions(session)
    if versions is None:
        return Reading(Freshness.ABSENT)
    facts, past, _logged = versions
    parts = dict(enumerate(recorded.split("|")))
    split = date.fromisoformat(parts[2][5:]) if parts.get(2, "").startswith("from:") else None
    if parts[0] == facts:
        return Reading(Freshness.CURRENT, split)
    if split is None or parts.get(1) != past:
        return Reading(Freshness.STALE)
    logged = logged_number(recorded) or 0
    from perception.kpi.models import ExperienceWeekLog as Log
    from perception.kpi.services.data_version import declared_weeks

    try:
        with session.begin_nested():
            earliest = session.scalar(select(func.min(Log.period_start)).where(Log.seq > logged))
    except (OperationalError, ProgrammingError):
        return Reading(Freshness.STALE)  # a database migrated before the log existed
    weeks = [split, *declared_weeks(session)]
    if earliest is not None:
        weeks.append(earliest)
    return Reading(Freshness.PARTIAL, min(weeks))


def weeks_written_since(session: Session, recorded: str) -> tuple[date, frozenset[date]] | None:
    """For something read from the facts week by week and stamped ``recorded`` (its ``stamp``)
    while ``reading`` of that stamp is PARTIAL: the recorded split and the weeks declared writers
    logged since. A week before that split and not logged is still the facts' (any other write to
    it would have made the reading STALE): the change look's stored weeks (services.change_weeks)
    read again the week a late callback wrote, not every week from it on. None: no split recorded,
    or no log to ask (read every week again)."""
    parts = recorded.split("|")
    logged = logged_number(recorded)
    if len(parts) < 3 or not parts[2].startswith("from:") or logged is None:
        return None
    from perception.kpi.models import ExperienceWeekLog as Log

    try:
        with session.begin_nested():
            weeks = session.scalars(select(Log.period_start).where(Log.seq > logged).distinct()).all()
    except (OperationalError, ProgrammingError):
        return None
    return date.fromisoformat(parts[2][5:]), frozenset(weeks)


def logged_number(signature: str | None) -> int | None:
    """The week log's number a ``stamp`` recorded (None: no stamp, or one from before the log)."""
    parts = (signature or "").split("|")
    return int(parts[3][4:]) if len(parts) > 3 and parts[3].startswith("log:") else None


def record_refresh(
    session: Session, state: Any, model: type, signature: str, rows: int, started: float
) -> Any:
    """Write a pre-aggregate's single state row (``model``; ``state`` None: the first) after a
    refresh that began at ``started`` (time.perf_counter) and left ``rows`` rows."""
    from perception.core.models.base import utcnow

    if state is None:
        state = model(signature=signature)
        session.add(state)
    state.signature = signature
    state.refreshed_at = utcnow()
    state.rows = rows
    state.seconds = time.perf_counter() - started
    session.flush()
    return state


@event.listens_for(Session, "after_flush")
def _count_flush(session: Session, _context: Any) -> None:
    # A flush may have written a pre-aggregate's state row or the facts: readings taken before
    # it are taken again.
    session.info[_FLUSHES] = session.info.get(_FLUSHES, 0) + 1


def once_per_transaction(session: Session, name: Hashable, take: Callable[[], T]) -> T:
    """``take()``'s result (a pre-aggregate's reading, or rows read for several parts of a page),
    taken once in this transaction while it writes nothing (module docstring); taken anew after a
    flush or with uncommitted writes."""
    from perception.kpi.services.data_version import has_pending_writes

    if isinstance(session, scoped_session):  # a request's session: the one it stands for
        session = session()
    transaction = session.get_transaction()
    if transaction is None or session.new or session.dirty or session.deleted or has_pending_writes(session):
        return take()
    mark = (transaction, session.info.get(_FLUSHES, 0))
    kept = session.info.get(_READINGS)
    if kept is None or kept[0] != mark:
        taken: dict[Hashable, Any] = {}
        session.info[_READINGS] = (mark, taken)
    else:
        taken = kept[1]
    if name not in taken:
        taken[name] = take()
    return cast(T, taken[name])


def state_reading(session: Session, name: str, state_of: Callable[[Session], Any]) -> Reading:
    """The reading of the pre-aggregate ``name`` whose state row ``state_of`` finds (its recorded
    ``stamp`` in ``signature``), once per transaction; ABSENT where the table does not exist yet (a
    database migrated below it)."""

    def take() -> Reading:
        try:
            with session.begin_nested():
                state = state_of(session)
        except (OperationalError, ProgrammingError):
            return Reading(Freshness.ABSENT)
        return reading(session, state.signature if state is not None else None)

    return once_per_transaction(session, name, take)


def prune_week_log(session: Session, signatures: Sequence[str | None]) -> int:
    """Delete the logged weeks numbered at or below the oldest log number that the pre-aggregates'
    ``signatures`` (each one's current stamp) recorded: a reader looks only for weeks logged after
    its pre-aggregate's number. (A reader that took an older stamp just before a refresh committed
    reads the refreshed rows, which hold those weeks.) Nothing while a pre-aggregate is absent or
    has a stamp without a log number. Returns the rows deleted. The log grows by a row per
    declaring commit of an earlier week: a weekly report's, or an answer on a Sunday evening west
    of UTC (data_version.reference_monday)."""
    from perception.kpi.models import ExperienceWeekLog as Log

    numbers = [logged_number(signature) for signature in signatures]
    if not numbers or None in numbers:
        return 0
    oldest = min(n for n in numbers if n is not None)
    return int(session.execute(delete(Log).where(Log.seq <= oldest)).rowcount or 0)  # type: ignore[attr-defined]
