# ruff: noqa: S608 - the index sums' SQL is built from our own column names and constants
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
the old rows until it commits). It records the facts' write signature: the write counter
``experience_facts`` (perception.kpi.services.data_version), which goes up in the very transaction
of every commit that wrote or withdrew facts, on PostgreSQL and SQLite alike.
``rollup_freshness`` compares that signature with the current one: the pages read the rollup
only when they are equal, otherwise the facts themselves (always correct, slower); or, when only
answers of the current week were written since (services.freshness), the rollup's weeks before its
split and the facts' from it on (``rollup_reading``), and the refresh then rebuilds those weeks
alone. (It was the
PostgreSQL tuple counters, which lag a commit by up to ten seconds, and SQLite kept none.)
The running sums of level 0 (services.experience_cumulative, the KPI-versus-experience page) are
rebuilt from it at the end of each refresh, with the same signature.
"""

from __future__ import annotations

import enum
import time
from datetime import date

from sqlalchemy import case, delete, func, insert, literal, select, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from perception.analysis.models import (
    INDEX_DIMS,
    INDEX_MOMENTS,
    INDEX_SUMS,
    AnalysisRollupState,
    ExperienceRollup,
)
from perception.analysis.models import ExperienceRollup as Roll
from perception.analysis.services.freshness import Freshness, Reading, reading, stamp
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
#: Level 2: per service summed over the regions and tiers (region_id 0, tier_id NULL): the
#: overview's per-service rows over a year read 50 services' weeks, not every region x service x
#: tier cell's (issue 19). Absent from a rollup built before it; readers check (has_all_regions).
ALL_REGIONS = 2


def facts_signature(session: Session) -> str | None:
    """The facts' write counter (see the module docstring); None on a database migrated before
    the counter's table existed."""
    from perception.kpi.services.data_version import EXPERIENCE_FACTS, read_version

    try:
        with session.begin_nested():
            committed, token, writes = read_version(session, EXPERIENCE_FACTS)
    except (OperationalError, ProgrammingError):
        return None
    return f"dv:{committed}:{token}:{writes}"


def _state(session: Session) -> AnalysisRollupState | None:
    return session.scalar(select(AnalysisRollupState).order_by(AnalysisRollupState.id).limit(1))


class RollupFreshness(enum.StrEnum):
    ABSENT = "absent"  # no write counters (SQLite), no rollup table, or never built
    CURRENT = "current"  # built from the facts as they are now: the pages read it
    PARTIAL = "partial"  # only current-week answers since: the pages read its past weeks
    STALE = "stale"  # the past weeks' facts changed since: the pages read the facts


def rollup_reading(session: Session) -> Reading:
    """How far ExperienceRollup (and the index sums built with it) matches the facts right now:
    wholly, or in the weeks before its split (services.freshness)."""
    try:
        with session.begin_nested():  # a database migrated before the rollup existed has no table
            state = _state(session)
    except (OperationalError, ProgrammingError):
        return Reading(Freshness.ABSENT)
    return reading(session, state.signature if state is not None else None)


def rollup_freshness(session: Session) -> RollupFreshness:
    """Whether ExperienceRollup matches the facts right now (see the module docstring)."""
    return RollupFreshness(rollup_reading(session).freshness.value)


def rollup_usable(session: Session) -> bool:
    """Whether the sums may be read whole instead of the facts: they match the facts right now."""
    return rollup_freshness(session) is RollupFreshness.CURRENT


def refresh_rollup(session: Session, *, force: bool = False) -> int | None:
    """Bring the rollup up to the facts; returns the number of rows (None: already current).

    Only the weeks from its split on when the past weeks still match (services.freshness: the
    answers of the current week arrived since); the whole of it otherwise."""
    signature = stamp(session)  # before reading the facts (see freshness.stamp)
    if signature is None:
        return None
    from perception.analysis.services.experience_cumulative import refresh_experience_cumulative
    from perception.analysis.services.respondents import refresh_respondents

    # The experience page's per-respondent table keeps its own signature (built once after an
    # upgrade even while these sums are current).
    refresh_respondents(session, force=force)
    state = _state(session)
    found = reading(session, state.signature if state is not None else None)
    if found.freshness is Freshness.CURRENT and not force:
        assert state is not None
        # Wholly current: the same rows hold with a later split (nothing to read again).
        state.signature = signature
        session.flush()
        # The running sums of the sums (KPI versus experience) are built once after an upgrade
        # even while these are current.
        refresh_experience_cumulative(session)
        return None
    started = time.perf_counter()
    since = found.facts_from if not force else None
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL work_mem = '128MB'"))
    _refresh_sums(session, since)
    _refresh_index_sums(session)
    refresh_all_regions(session, since)
    rows = session.scalar(select(func.count()).select_from(ExperienceRollup)) or 0
    if state is None:
        state = AnalysisRollupState(signature=signature)
        session.add(state)
    state.signature = signature
    state.refreshed_at = utcnow()
    state.rows = rows
    state.seconds = time.perf_counter() - started
    session.flush()
    refresh_experience_cumulative(session, force=True)
    return rows


def _refresh_sums(session: Session, since: date | None) -> None:
    """(Re)build levels 0 and 1 of the sums from the facts: the weeks from ``since`` on (None: all)."""
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
    if since is not None:
        source = source.where(Obs.period_start >= since)
    clear = delete(ExperienceRollup)
    if since is not None:  # by level, so that the index on (level, week) finds the weeks
        levels = ExperienceRollup.level.in_([BY_SERVICE, ALL_SERVICES])
        clear = clear.where(levels, ExperienceRollup.period_start >= since)
    session.execute(clear)
    columns = ["level", *ROLLUP_KEYS, *STAT_NAMES]
    session.execute(insert(ExperienceRollup).from_select(columns, source))
    fine = [getattr(Roll, k) for k in ROLLUP_KEYS if k not in ("service_id", "tier_id")]
    summed = (
        select(
            literal(ALL_SERVICES),
            *fine,
            *(func.sum(getattr(Roll, k)) for k in STAT_NAMES),
        )
        .where(Roll.level == BY_SERVICE, *([] if since is None else [Roll.period_start >= since]))
        .group_by(*fine)
    )
    session.execute(
        insert(ExperienceRollup).from_select(
            ["level", *(k for k in ROLLUP_KEYS if k not in ("service_id", "tier_id")), *STAT_NAMES], summed
        )
    )


def refresh_all_regions(session: Session, since: date | None = None) -> None:
    """(Re)build level 2 (ALL_REGIONS) of the sums from their level 0, the weeks from ``since`` on
    (None: all), and of the index sums (all weeks): per service, summed over regions and tiers."""
    weeks = [] if since is None else [Roll.period_start >= since]
    session.execute(delete(ExperienceRollup).where(ExperienceRollup.level == ALL_REGIONS, *weeks))
    fine = [getattr(Roll, k) for k in ROLLUP_KEYS if k not in ("region_id", "tier_id")]
    summed = (
        select(literal(ALL_REGIONS), literal(0), *fine, *(func.sum(getattr(Roll, k)) for k in STAT_NAMES))
        .where(Roll.level == BY_SERVICE, *weeks)
        .group_by(*fine)
    )
    columns = [
        "level",
        "region_id",
        *(k for k in ROLLUP_KEYS if k not in ("region_id", "tier_id")),
        *STAT_NAMES,
    ]
    session.execute(insert(ExperienceRollup).from_select(columns, summed))
    # The index sums likewise (the respondents spanning cells stay apart, as for level 1).
    sums = ", ".join(INDEX_SUMS + INDEX_MOMENTS)
    session.execute(text(f"DELETE FROM experience_index_rollup WHERE level = {ALL_REGIONS}"))
    session.execute(
        text(
            f"INSERT INTO experience_index_rollup (level, period_start, region_id, service_id, source, "
            f"respondents, {sums}) SELECT {ALL_REGIONS}, period_start, 0, service_id, source, "
            f"sum(respondents), {', '.join(f'sum({c})' for c in INDEX_SUMS + INDEX_MOMENTS)} "
            f"FROM experience_index_rollup WHERE level = {BY_SERVICE} "
            "GROUP BY period_start, service_id, source"
        )
    )


def has_all_regions(session: Session) -> bool:
    """Whether the rollup holds level 2 (a rollup built before it existed does not)."""
    found = session.scalar(select(ExperienceRollup.id).where(ExperienceRollup.level == ALL_REGIONS).limit(1))
    return found is not None


def _refresh_index_sums(session: Session) -> None:
    """Rebuild the perception index's sums (analysis.models.experience_index_rollup): one row per
    respondent and level-0 cell with the count and sum of its rescaled ratings per dimension (as
    perception_index.index_by_groups reads them from the facts), then per cell the sums of those
    and of their products over the respondents who lie in one cell; the others' rows are kept
    apart (experience_index_spanning) and merged per respondent when read."""
    from perception.analysis.services.facts import DIMENSION_CODES, INDEX_KINDS

    dims = range(INDEX_DIMS)
    span = "(scale_max - scale_min)"
    ys = ", ".join(
        f"CASE WHEN dimension = '{code}' AND {span} > 0 THEN 100.0 * (value - scale_min) / {span} END AS y{d}"
        for d, code in enumerate(DIMENSION_CODES)
    )
    per = ", ".join(
        [*(f"count(y{d}) AS c{d}" for d in dims), *(f"coalesce(sum(y{d}), 0) AS t{d}" for d in dims)]
    )
    cell = "period_start, region_id, service_id, tier_id, source"
    kinds = ", ".join(f"'{k}'" for k in INDEX_KINDS)
    codes = ", ".join(f"'{c}'" for c in DIMENSION_CODES)
    products = []
    for name in INDEX_MOMENTS:
        kind, d, e = name.split("_")
        left, right = ("t", "t") if kind == "ss" else ("t", "c") if kind == "sc" else ("c", "c")
        products.append(f"sum({left}{d} * {right}{e})")
    any_rating = " + ".join(f"c{d}" for d in dims)
    sums, moments = ", ".join(INDEX_SUMS), ", ".join(INDEX_MOMENTS)
    same = "s.source = p.source AND s.source_id = p.source_id"
    # PostgreSQL drops the work tables at the commit; SQLite knows no ON COMMIT: dropped below.
    on_commit = " ON COMMIT DROP" if session.get_bind().dialect.name == "postgresql" else ""
    for statement in (
        "DROP TABLE IF EXISTS h19_index_per",
        "DROP TABLE IF EXISTS h19_index_span",
        f"CREATE TEMP TABLE h19_index_per{on_commit} AS SELECT source_id, {cell}, {per} "
        f"FROM (SELECT source_id, {cell}, {ys} FROM experience_observation "
        f"WHERE kind IN ({kinds}) AND dimension IN ({codes})) AS x GROUP BY source_id, {cell}",
        f"CREATE TEMP TABLE h19_index_span{on_commit} AS SELECT source, source_id FROM h19_index_per "
        "GROUP BY source, source_id HAVING count(*) > 1",
        "DELETE FROM experience_index_spanning",
        "DELETE FROM experience_index_rollup",
        f"INSERT INTO experience_index_spanning ({cell}, source_id, {sums}) "
        f"SELECT p.period_start, p.region_id, p.service_id, p.tier_id, p.source, p.source_id, {sums} "
        f"FROM h19_index_per AS p JOIN h19_index_span AS s ON {same}",
        f"INSERT INTO experience_index_rollup (level, {cell}, respondents, {sums}, {moments}) "
        f"SELECT {BY_SERVICE}, {cell}, sum(CASE WHEN {any_rating} > 0 THEN 1 ELSE 0 END), "
        f"{', '.join(f'sum({c})' for c in INDEX_SUMS)}, {', '.join(products)} FROM h19_index_per AS p "
        f"WHERE NOT EXISTS (SELECT 1 FROM h19_index_span AS s WHERE {same}) "
        f"GROUP BY {cell}",
        f"INSERT INTO experience_index_rollup (level, period_start, region_id, source, respondents, {sums}, "
        f"{moments}) SELECT {ALL_SERVICES}, period_start, region_id, source, sum(respondents), "
        f"{', '.join(f'sum({c})' for c in INDEX_SUMS + INDEX_MOMENTS)} FROM experience_index_rollup "
        f"WHERE level = {BY_SERVICE} GROUP BY period_start, region_id, source",
    ):
        session.execute(text(statement))
    if not on_commit:
        session.execute(text("DROP TABLE h19_index_per"))
        session.execute(text("DROP TABLE h19_index_span"))
