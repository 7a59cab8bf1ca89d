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

from sqlalchemy import delete, func, insert, literal, select, text
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
from perception.analysis.services.facts import STAT_NAMES, fact_sums, summed_stats
from perception.analysis.services.freshness import (
    Freshness,
    Reading,
    prune_week_log,
    reading,
    record_refresh,
    stamp,
    state_reading,
)
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
    wholly, or in the weeks before its split (services.freshness; once per transaction)."""
    return state_reading(session, "rollup", _state)


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
    # A partial refresh counts the weeks it rewrites, before and after: counting the whole table
    # (3.8M rows at a national provider's size) took longer than the rewrite.
    rewritten = select(func.count()).where(ExperienceRollup.period_start >= since) if since else None
    was = session.scalar(rewritten) if rewritten is not None else 0
    _refresh_sums(session, since)
    _refresh_index_sums(session, since)
    refresh_all_regions(session, since)
    if rewritten is not None and state is not None:
        rows = state.rows - (was or 0) + (session.scalar(rewritten) or 0)
    else:
        rows = session.scalar(select(func.count()).select_from(ExperienceRollup)) or 0
    record_refresh(session, state, AnalysisRollupState, signature, rows, started)
    refresh_experience_cumulative(session, force=True)
    _prune_week_log(session)
    return rows


def week_log_signatures(session: Session) -> list[str | None]:
    """The stamps of the pre-aggregates that read the week log (freshness), one each: the log is
    pruned up to the oldest of their numbers (``_prune_week_log``)."""
    from perception.analysis.models import ExperienceCumulativeState, ExperienceRespondentState

    return [
        session.scalar(select(model.signature).order_by(model.id).limit(1))
        for model in (AnalysisRollupState, ExperienceRespondentState, ExperienceCumulativeState)
    ]


def _prune_week_log(session: Session) -> None:
    """The logged weeks no pre-aggregate looks for any more (freshness.prune_week_log): every one
    of them is rebuilt in this transaction, so their stamps are the ones it commits. (The change
    look's weeks (services.change_weeks) are read again when stamped before what is pruned.)"""
    prune_week_log(session, week_log_signatures(session))


def _refresh_sums(session: Session, since: date | None) -> None:
    """(Re)build levels 0 and 1 of the sums from the facts: the weeks from ``since`` on (None: all)."""
    keys = [getattr(Obs, k) for k in ROLLUP_KEYS]
    source = select(
        literal(BY_SERVICE),
        *keys,
        *fact_sums(),
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
            *summed_stats(Roll),
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
    (None: all): per service, summed over regions and tiers. (The index sums' level 2 is rebuilt
    by ``_refresh_index_sums``, which knows which earlier cells a partial refresh touched.)"""
    weeks = [] if since is None else [Roll.period_start >= since]
    session.execute(delete(ExperienceRollup).where(ExperienceRollup.level == ALL_REGIONS, *weeks))
    fine = [getattr(Roll, k) for k in ROLLUP_KEYS if k not in ("region_id", "tier_id")]
    summed = (
        select(literal(ALL_REGIONS), literal(0), *fine, *summed_stats(Roll))
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
    # The index sums' level 2 is rebuilt with their levels 0 and 1 (_refresh_index_sums).


def has_all_regions(session: Session) -> bool:
    """Whether the rollup holds level 2 (a rollup built before it existed does not)."""
    found = session.scalar(select(ExperienceRollup.id).where(ExperienceRollup.level == ALL_REGIONS).limit(1))
    return found is not None


#: The work tables of the index sums' rebuild (temporary; dropped at the commit on PostgreSQL).
_INDEX_WORK = (
    "h19_index_per",
    "h19_index_span",
    "h21_index_aff",
    "h21_index_old",
    "h21_index_was",
    "h21_index_cells",
    "h21_index_more",
)


def _refresh_index_sums(session: Session, since: date | None = None) -> None:
    """Rebuild the perception index's sums (analysis.models.experience_index_rollup, levels 0, 1
    and 2): one row per respondent and level-0 cell with the count and sum of its rescaled ratings
    per dimension (as perception_index.index_by_groups reads them from the facts), then per cell
    the sums of those and of their products over the respondents who lie in one cell; the others'
    rows are kept apart (experience_index_spanning) and merged per respondent when read.

    With ``since`` (a partial refresh: the facts before it are those the sums were built from),
    the cells from ``since`` on, and the earlier cells of the respondents who have rows from
    ``since`` on or had spanning rows there: such a respondent may span the split now (its
    earlier cell then leaves the cell's sums for the spanning table) or no longer span it. Every
    respondent of those cells is read again with all their rows (through the facts' index on
    the respondent), so the rows are those a whole rebuild gives. The earlier cells are few (a
    survey answer is a new respondent): usually the weeks from ``since`` alone are rewritten."""
    from sqlalchemy import Date, bindparam

    from perception.analysis.services.facts import DIMENSION_CODES, INDEX_KINDS

    dims = range(INDEX_DIMS)
    span = "(o.scale_max - o.scale_min)"
    ys = ", ".join(
        f"CASE WHEN o.dimension = '{code}' AND {span} > 0 THEN 100.0 * (o.value - o.scale_min) / {span} "
        f"END AS y{d}"
        for d, code in enumerate(DIMENSION_CODES)
    )
    per = ", ".join(
        [*(f"count(y{d}) AS c{d}" for d in dims), *(f"coalesce(sum(y{d}), 0) AS t{d}" for d in dims)]
    )
    cell = "period_start, region_id, service_id, tier_id, source"
    o_cell = ", ".join(f"o.{c}" for c in cell.split(", "))
    kinds = ", ".join(f"'{k}'" for k in INDEX_KINDS)
    codes = ", ".join(f"'{c}'" for c in DIMENSION_CODES)
    facts = f"o.kind IN ({kinds}) AND o.dimension IN ({codes})"

    def per_rows(where: str, join: str = "") -> str:
        """The rows per respondent and cell of the facts (``o``, joined with ``join``) ``where``."""
        return (
            f"SELECT source_id, {cell}, {per} FROM (SELECT o.source_id, {o_cell}, {ys} "
            f"FROM experience_observation AS o {join} WHERE {facts} AND {where}) AS x "
            f"GROUP BY source_id, {cell}"
        )

    earlier: list[bool] = [False]  # whether cells before ``since`` are rebuilt (known in phase 2)

    def touched(table: str, keys: tuple[str, ...]) -> str:
        """The rows of ``table`` whose ``keys`` are those of a rebuilt cell (all when whole)."""
        if since is None:
            return "1 = 1"
        if not earlier[0]:
            return f"{table}.period_start >= :since"
        mine = ", ".join(f"coalesce({key}, -1)" if key in ("service_id", "tier_id") else key for key in keys)
        return f"({table}.period_start >= :since OR ({mine}) IN (SELECT {mine} FROM h21_index_cells))"

    def respondent(alias: str, table: str = "o") -> str:
        return f"JOIN {alias} ON {alias}.source = {table}.source AND {alias}.source_id = {table}.source_id"

    products = []
    for name in INDEX_MOMENTS:
        kind, d, e = name.split("_")
        left, right = ("t", "t") if kind == "ss" else ("t", "c") if kind == "sc" else ("c", "c")
        products.append(f"sum({left}{d} * {right}{e})")
    any_rating = " + ".join(f"c{d}" for d in dims)
    sums, moments = ", ".join(INDEX_SUMS), ", ".join(INDEX_MOMENTS)
    summed = ", ".join(f"sum({c})" for c in INDEX_SUMS + INDEX_MOMENTS)
    same = "s.source = p.source AND s.source_id = p.source_id"
    postgres = session.get_bind().dialect.name == "postgresql"
    # PostgreSQL drops the work tables at the commit; SQLite knows no ON COMMIT: dropped below.
    temp = "CREATE TEMP TABLE {}" + (" ON COMMIT DROP" if postgres else "") + " AS "

    def run(statements: list[str]) -> None:
        for statement in statements:
            query = text(statement)
            if ":since" in statement:
                query = query.bindparams(bindparam("since", since, type_=Date))
            session.execute(query)

    statements = [f"DROP TABLE IF EXISTS {name}" for name in _INDEX_WORK]
    # Small work tables: analysed, so that the planner probes the facts' index per respondent.
    analyse = (lambda name: [f"ANALYZE {name}"]) if postgres else (lambda name: [])
    if since is None:
        statements.append(temp.format("h19_index_per") + per_rows("1 = 1"))
    else:
        statements += [
            # The rows from ``since`` on, and who has them or had spanning rows there.
            temp.format("h19_index_per") + per_rows("o.period_start >= :since"),
            temp.format("h21_index_aff") + "SELECT source, source_id FROM h19_index_per UNION "
            "SELECT source, source_id FROM experience_index_spanning WHERE period_start >= :since",
            *analyse("h21_index_aff"),
            # Their earlier rows and cells.
            temp.format("h21_index_old") + per_rows("o.period_start < :since", respondent("h21_index_aff")),
            f"INSERT INTO h19_index_per SELECT source_id, {cell}, {sums} FROM h21_index_old",
            # Who of them spanned cells when the sums were built (the spanning table, not yet
            # rewritten), and the earlier cells of those who span cells now and did not then or
            # the other way round: those cells' sums gain or lose them. (Who keeps spanning, or
            # keeps lying in one cell, leaves the earlier cells' sums as they are.)
            temp.format("h21_index_was") + "SELECT DISTINCT s.source, s.source_id FROM "
            f"experience_index_spanning AS s {respondent('h21_index_aff', 's')}",
            temp.format("h21_index_cells") + f"SELECT DISTINCT {o_cell} FROM h21_index_old AS o "
            "JOIN (SELECT p.source, p.source_id, count(*) AS cells FROM h19_index_per AS p "
            "JOIN (SELECT DISTINCT source, source_id FROM h21_index_old) AS d ON d.source = p.source "
            "AND d.source_id = p.source_id GROUP BY p.source, p.source_id) AS n "
            "ON n.source = o.source AND n.source_id = o.source_id "
            "LEFT JOIN h21_index_was AS w ON w.source = o.source AND w.source_id = o.source_id "
            "WHERE (CASE WHEN w.source IS NULL THEN 0 ELSE 1 END) <> "
            "(CASE WHEN n.cells > 1 THEN 1 ELSE 0 END)",
        ]
    run(statements)
    if since is not None:
        earlier[0] = bool(session.scalar(text("SELECT count(*) FROM h21_index_cells")))
    if earlier[0]:  # (rare: usually the respondents from ``since`` on are new ones)
        run(
            [
                *analyse("h21_index_cells"),
                # The other respondents of those cells, with all their (earlier) rows.
                temp.format("h21_index_more")
                + "SELECT DISTINCT o.source, o.source_id FROM experience_observation AS o "
                "JOIN h21_index_cells AS k ON k.period_start = o.period_start AND k.region_id = o.region_id "
                "AND k.source = o.source AND coalesce(k.service_id, -1) = coalesce(o.service_id, -1) "
                f"AND coalesce(k.tier_id, -1) = coalesce(o.tier_id, -1) WHERE {facts} AND NOT EXISTS "
                "(SELECT 1 FROM h21_index_aff AS a WHERE a.source = o.source AND a.source_id = o.source_id)",
                *analyse("h21_index_more"),
                f"INSERT INTO h19_index_per {per_rows('1 = 1', respondent('h21_index_more'))}",
            ]
        )
    statements = [
        temp.format("h19_index_span") + "SELECT source, source_id FROM h19_index_per "
        "GROUP BY source, source_id HAVING count(*) > 1",
        # The spanning rows of every respondent read again (all their rows are in h19_index_per).
        "DELETE FROM experience_index_spanning"
        + (
            ""
            if since is None
            else " WHERE period_start >= :since "
            "OR (source, source_id) IN (SELECT source, source_id FROM h19_index_per)"
        ),
        f"INSERT INTO experience_index_spanning ({cell}, source_id, {sums}) "
        f"SELECT p.period_start, p.region_id, p.service_id, p.tier_id, p.source, p.source_id, {sums} "
        f"FROM h19_index_per AS p JOIN h19_index_span AS s ON {same}",
        # Level 0: the rebuilt cells (every respondent of theirs is in h19_index_per, and every
        # respondent there who lies in one cell lies in one of them).
        f"DELETE FROM experience_index_rollup WHERE level = {BY_SERVICE} AND "
        + touched("experience_index_rollup", tuple(cell.split(", "))),
        f"INSERT INTO experience_index_rollup (level, {cell}, respondents, {sums}, {moments}) "
        f"SELECT {BY_SERVICE}, {cell}, sum(CASE WHEN {any_rating} > 0 THEN 1 ELSE 0 END), "
        f"{', '.join(f'sum({c})' for c in INDEX_SUMS)}, {', '.join(products)} FROM h19_index_per AS p "
        f"WHERE NOT EXISTS (SELECT 1 FROM h19_index_span AS s WHERE {same}) "
        f"GROUP BY {cell}",
    ]
    # Levels 1 (summed over services and tiers) and 2 (over regions and tiers) of the rebuilt
    # cells' keys, from level 0.
    for level, keys, region, service in (
        (ALL_SERVICES, ("period_start", "region_id", "source"), "region_id", "NULL"),
        (ALL_REGIONS, ("period_start", "service_id", "source"), "0", "service_id"),
    ):
        scope = touched("experience_index_rollup", keys)
        statements += [
            f"DELETE FROM experience_index_rollup WHERE level = {level} AND {scope}",
            f"INSERT INTO experience_index_rollup (level, period_start, region_id, service_id, source, "
            f"respondents, {sums}, {moments}) SELECT {level}, period_start, {region}, {service}, source, "
            f"sum(respondents), {summed} FROM experience_index_rollup "
            f"WHERE level = {BY_SERVICE} AND {scope} GROUP BY {', '.join(keys)}",
        ]
    run(statements)
    if not postgres:
        for name in _INDEX_WORK:
            session.execute(text(f"DROP TABLE IF EXISTS {name}"))
