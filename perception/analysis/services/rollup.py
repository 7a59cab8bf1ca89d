"""The pre-aggregated weekly experience sums that keep the analysis pages under a second at a
national provider's size (issue 19).

The sums leave the customer out: keyed on the customer they were as many rows as the facts
(887,000 for 900,000 facts) and saved nothing. Level 0 is region x service x tier x source x kind
x dimension x scale x week; level 1 the same summed over services and tiers, for the pages that
neither filter nor group by service (100 regions x 104 weeks x some ten kinds and dimensions,
whatever the number of responses). Every statistic the pages show is a sum of these (n, sum, sum
of squares, top-2-box, promoter and detractor counts), so any period is the sum of its weeks. A
customer filter reads the facts (services.facts.aggregate), as does the representative's portal.

``refresh_rollup`` (job ``refresh_analysis_rollup``, hourly, and requested by a page that found it
stale when a worker exists: perception.analysis.jobs) rebuilds ExperienceRollup from the facts in
two INSERT ... SELECT ... GROUP BY (level 1 from level 0), inside one transaction (readers keep
the old rows until it commits). It records the facts' write signature: on PostgreSQL the
cumulative inserted/updated/deleted tuple counters of experience_observation
(pg_stat_user_tables), which change whenever a collecting phase writes or withdraws facts.
``rollup_freshness`` compares that signature with the current one: the pages read the rollup
only when they are equal, otherwise the facts themselves (always correct, slower).
The counters are reported by PostgreSQL at the end of the writing transaction (at most about a
second later for a busy backend), so the rollup can lag a just-committed write by that much.
On SQLite (small deployments, tests) there is no such counter and the facts are always read.
"""

from __future__ import annotations

import enum
import time

from sqlalchemy import case, delete, func, insert, literal, select, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from perception.analysis.models import AnalysisRollupState, ExperienceRollup
from perception.analysis.models import ExperienceRollup as Roll
from perception.core.models.base import utcnow
from perception.core.models.facts import ExperienceObservation as Obs

ROLLUP_KEYS = (
    "period_start",
    "region_id",
    "service_id",
    "tier_id",
    "source",
    "kind",
    "dimension",
    "scale_min",
    "scale_max",
)
STAT_NAMES = ("n", "s", "ss", "top2", "promoters", "detractors")
#: Level 0: per service and tier; level 1: summed over them (service_id and tier_id NULL).
BY_SERVICE, ALL_SERVICES = 0, 1


def facts_signature(session: Session) -> str | None:
    """The facts' write counters (PostgreSQL); None where the database keeps none."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    row = session.execute(
        text(
            "SELECT n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables "
            "WHERE relid = to_regclass('experience_observation')"
        )
    ).first()
    return None if row is None else f"{row[0]}:{row[1]}:{row[2]}"


def _state(session: Session) -> AnalysisRollupState | None:
    return session.scalar(select(AnalysisRollupState).order_by(AnalysisRollupState.id).limit(1))


class RollupFreshness(enum.StrEnum):
    ABSENT = "absent"  # no write counters (SQLite), no rollup table, or never built
    CURRENT = "current"  # built from the facts as they are now: the pages read it
    STALE = "stale"  # the facts changed since: the pages read the facts until it is rebuilt


def rollup_freshness(session: Session) -> RollupFreshness:
    """Whether ExperienceRollup matches the facts right now (see the module docstring)."""
    current = facts_signature(session)
    if current is None:
        return RollupFreshness.ABSENT
    try:
        with session.begin_nested():  # a database migrated before the rollup existed has no table
            state = _state(session)
    except (OperationalError, ProgrammingError):
        return RollupFreshness.ABSENT
    if state is None:
        return RollupFreshness.ABSENT
    return RollupFreshness.CURRENT if state.signature == current else RollupFreshness.STALE


def rollup_usable(session: Session) -> bool:
    """Whether the sums may be read instead of the facts: they match the facts right now."""
    return rollup_freshness(session) is RollupFreshness.CURRENT


def refresh_rollup(session: Session, *, force: bool = False) -> int | None:
    """Rebuild the rollup from the facts; returns the number of rows (None: already current)."""
    signature = facts_signature(session)
    if signature is None:
        return None
    state = _state(session)
    if state is not None and state.signature == signature and not force:
        return None
    started = time.perf_counter()
    keys = [getattr(Obs, k) for k in ROLLUP_KEYS]
    source = select(
        literal(BY_SERVICE),
        *keys,
        func.count(),
        func.sum(Obs.value),
        func.sum(Obs.value * Obs.value),
        func.sum(case((Obs.value >= Obs.scale_max - 1, 1), else_=0)),
        func.sum(case((Obs.value >= 9, 1), else_=0)),
        func.sum(case((Obs.value <= 6, 1), else_=0)),
    ).group_by(*keys)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL work_mem = '128MB'"))
    session.execute(delete(ExperienceRollup))
    columns = ["level", *ROLLUP_KEYS, *STAT_NAMES]
    session.execute(insert(ExperienceRollup).from_select(columns, source))
    fine = [getattr(Roll, k) for k in ROLLUP_KEYS if k not in ("service_id", "tier_id")]
    summed = (
        select(
            literal(ALL_SERVICES),
            *fine,
            *(func.sum(getattr(Roll, k)) for k in STAT_NAMES),
        )
        .where(Roll.level == BY_SERVICE)
        .group_by(*fine)
    )
    session.execute(
        insert(ExperienceRollup).from_select(
            ["level", *(k for k in ROLLUP_KEYS if k not in ("service_id", "tier_id")), *STAT_NAMES], summed
        )
    )
    rows = session.scalar(select(func.count()).select_from(ExperienceRollup)) or 0
    if state is None:
        state = AnalysisRollupState(signature=signature)
        session.add(state)
    state.signature = signature
    state.refreshed_at = utcnow()
    state.rows = rows
    state.seconds = time.perf_counter() - started
    session.flush()
    return rows
