# ruff: noqa: S608 - the refresh's SQL is built from our own column names and constants
"""The experience page's newest-respondents samples (key drivers, scale reliability) from a table of
one row per respondent, sorted by week (issue 19).

The samples are the newest ``limit`` respondents of the period, each with their highest rating per
dimension and their overall answer (experience.driver_matrix, reliability.dimension_matrix). Read
from the facts, that groups every fact of the last weeks' respondents per respondent: at a
national provider's size (3,000,000 responses) some 20 s of scattered reads. ``experience_respondent``
(analysis.models) holds those per-respondent maxima already, one row per respondent and cell
(week, region, service, tier, customer), written newest week first; a respondent with one cell
(nearly everyone) is one row, so the sample is an index range scan that stops after ``limit``
rows, and the few respondents with several cells (a report entry covering two weeks, an answer
moved between services) are grouped as the facts were. Every filter of the facts (period,
regions, service, tier, customer) is a column of the cell, so a respondent's row is what grouping
their matching facts gives: the same rows in the same order (newest week, source, source id).

``refresh_respondents`` rebuilds the table from the facts (PostgreSQL and SQLite alike; called by
services.rollup.refresh_rollup, the hourly job) and records their write signature as it found it
(services.freshness.stamp); ``respondents_reading`` tells the pages how far the table matches the
facts right now. CURRENT: the table alone. PARTIAL (only answers of the current week were written
since, declared so): the table's rows before its split are the facts' still; the respondents with a
matching fact from the split on come first (their newest week is the latest) and are grouped from
the facts, all their facts of the period on both sides of the split, and the table's rows before
the split of everyone else follow (all their matching facts lie before it, where the table is
exact, whatever their ``cells``). STALE or ABSENT: the facts alone (always right, slower). The
refresh, when PARTIAL, rebuilds the rows from the split on and every row of the respondents who
also have facts before it (``cells`` counts a respondent's cells over all weeks), which gives the
rows a whole rebuild gives.

Public API: ``refresh_respondents``, ``respondents_reading``, ``respondents_usable``,
``newest_respondents``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import and_, case, delete, func, or_, select, text, true, tuple_, union_all
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from perception.analysis.models import RESPONDENT_DIMS, ExperienceRespondentState, experience_respondent
from perception.analysis.services.filters import AnalysisFilters, where_facts
from perception.analysis.services.freshness import (
    Freshness,
    Reading,
    once_per_transaction,
    reading,
    record_refresh,
    stamp,
    state_reading,
)
from perception.core.models.facts import ExperienceObservation as Obs

R = experience_respondent.c
#: The overall answers kept per respondent (the drivers explain one of them).
OVERALL_KINDS = ("csat", "nps")


def _state(session: Session) -> ExperienceRespondentState | None:
    return session.scalar(select(ExperienceRespondentState).order_by(ExperienceRespondentState.id).limit(1))


def respondents_reading(session: Session) -> Reading:
    """How far experience_respondent matches the facts right now: wholly, or in the weeks before
    its split (services.freshness; a signature of the facts alone, recorded before the split
    existed, reads as current or stale). Taken once per transaction (freshness.once_per_transaction)."""
    return state_reading(session, "respondents", _state)


def respondents_usable(session: Session) -> bool:
    """Whether experience_respondent may be read (wholly, or before its split: pass
    ``respondents_reading(session).facts_from`` to newest_respondents)."""
    return respondents_reading(session).usable


def _any(condition: str, postgres: bool) -> str:
    """Whether any fact of the group meets ``condition``: PostgreSQL's bool_or; SQLite has no
    boolean aggregate, and stores a boolean as 0 or 1 (as SQLAlchemy's Boolean reads it)."""
    if postgres:
        return f"bool_or({condition})"
    return f"max(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def refresh_respondents(session: Session, *, force: bool = False) -> int | None:
    """Bring experience_respondent up to the facts; its number of rows (None: already current).

    Only the rows of the weeks from its split on, and the rows of the respondents who also have
    answers before it (their ``cells`` count all their weeks), when its past weeks still match the
    facts (services.freshness: only answers of the current week arrived since); the whole table
    otherwise. Either gives the rows a whole rebuild gives."""
    signature = stamp(session)  # before reading the facts (see freshness.stamp)
    if signature is None:
        return None
    state = _state(session)
    found = reading(session, state.signature if state is not None else None)
    if found.freshness is Freshness.CURRENT and not force:
        assert state is not None
        # Wholly current: the same rows hold with a later split (and a signature of the old format
        # becomes a stamp).
        if state.signature != signature:
            state.signature = signature
            session.flush()
        return None
    started = time.perf_counter()
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("SET LOCAL work_mem = '128MB'"))
    since = found.facts_from if not force else None
    if since is None or state is None:
        session.execute(delete(experience_respondent))
        session.execute(text(_insert_sql(postgres, "experience_observation", _KINDS_WHERE)))
        # Statistics for the planner now, not when autovacuum comes by: the samples' index scans.
        session.execute(text("ANALYZE experience_respondent"))
        rows = session.scalar(select(func.count()).select_from(experience_respondent)) or 0
    else:
        rows = state.rows + _refresh_since(session, since, postgres)
    record_refresh(session, state, ExperienceRespondentState, signature, rows, started)
    return rows


def _kinds() -> str:
    from perception.analysis.services.facts import DIMENSION_KINDS

    return ", ".join(f"'{k}'" for k in (*DIMENSION_KINDS, *OVERALL_KINDS))


#: The facts a respondent's rows are made of (``{kinds}``: _kinds()).
_KINDS_WHERE = "kind IN ({kinds})"
#: A row's cell (the table's key with the respondent) and the facts' columns its figures read.
_CELL = "period_start, source, source_id, region_id, service_id, tier_id, customer_id"
_READ = f"{_CELL}, kind, dimension, value"


def _insert_sql(postgres: bool, facts: str, where: str) -> str:
    """INSERT the rows of the respondents in ``facts`` (a table or a subquery with the columns of
    ``_READ``) matching ``where``, newest week first; ``cells`` counts each respondent's cells
    there, so ``facts`` holds either every fact of a respondent or none."""
    from perception.analysis.services.facts import DIMENSION_CODES, DIMENSION_KINDS

    dim_kinds = ", ".join(f"'{k}'" for k in DIMENSION_KINDS)
    dims = ", ".join(
        f"max(CASE WHEN kind IN ({dim_kinds}) AND dimension = '{code}' THEN value END)"
        for code in DIMENSION_CODES
    )
    overall = ", ".join(f"max(CASE WHEN kind = '{k}' THEN value END)" for k in OVERALL_KINDS)
    dim_kind = _any(f"kind IN ({dim_kinds})", postgres)
    rated = _any(f"kind IN ({dim_kinds}) AND dimension IS NOT NULL", postgres)
    return (
        f"INSERT INTO experience_respondent ({_CELL}, cells, dim_kind, rated, "
        f"{', '.join(RESPONDENT_DIMS)}, {', '.join(OVERALL_KINDS)}) "
        f"SELECT {_CELL}, count(*) OVER (PARTITION BY source, source_id), "
        f"{dim_kind}, {rated}, "
        f"{dims}, {overall} FROM {facts} WHERE {where.format(kinds=_kinds())} "
        f"GROUP BY {_CELL} ORDER BY period_start DESC, source, source_id"
    )


def _refresh_since(session: Session, since: date, postgres: bool) -> int:
    """Rebuild the rows of the weeks from ``since`` on, with those of the respondents who also
    have facts before it (all their rows: ``cells`` counts their weeks on both sides); the rows
    before ``since`` of everyone else are the facts' still (freshness.PARTIAL) and are kept.
    Returns the change in the number of rows."""
    kinds = _kinds()
    week = f"'{since.isoformat()}'"  # a date's ISO text: PostgreSQL casts it, SQLite stores dates so
    same = "s.source = {t}.source AND s.source_id = {t}.source_id"
    # PostgreSQL drops the work tables at the commit; SQLite knows no ON COMMIT: dropped below.
    on_commit = " ON COMMIT DROP" if postgres else ""
    for statement in (
        "DROP TABLE IF EXISTS h21_resp_recent",
        "DROP TABLE IF EXISTS h21_resp_span",
        # The respondents with rows from the split on, before (the table) or now (the facts) ...
        f"CREATE TEMP TABLE h21_resp_recent{on_commit} AS SELECT source, source_id "
        f"FROM experience_observation WHERE kind IN ({kinds}) AND period_start >= {week} "
        f"UNION SELECT source, source_id FROM experience_respondent WHERE period_start >= {week}",
        # ... and those of them with facts before it too (through the facts' source index).
        f"CREATE TEMP TABLE h21_resp_span{on_commit} AS SELECT source, source_id FROM h21_resp_recent AS s "
        f"WHERE EXISTS (SELECT 1 FROM experience_observation AS o WHERE {same.format(t='o')} "
        f"AND o.kind IN ({kinds}) AND o.period_start < {week})",
    ):
        session.execute(text(statement))
    spanning = session.scalar(text("SELECT count(*) FROM h21_resp_span")) or 0
    clear = f"DELETE FROM experience_respondent WHERE period_start >= {week}"
    removed = _changed(session, clear)
    if spanning:
        removed += _changed(
            session,
            f"DELETE FROM experience_respondent WHERE period_start < {week} AND EXISTS "
            f"(SELECT 1 FROM h21_resp_span AS s WHERE {same.format(t='experience_respondent')})",
        )
    # The facts from the split on of the respondents with none before it, and every fact of those
    # with some: each respondent whole, so the window counts their cells over all weeks.
    facts = (
        f"(SELECT {_READ} FROM experience_observation AS o WHERE o.kind IN ({kinds}) "
        f"AND o.period_start >= {week} AND NOT EXISTS (SELECT 1 FROM h21_resp_span AS s "
        f"WHERE {same.format(t='o')}) "
        f"UNION ALL SELECT {', '.join(f'o.{c}' for c in _READ.split(', '))} "
        f"FROM experience_observation AS o JOIN h21_resp_span AS s ON {same.format(t='o')} "
        f"WHERE o.kind IN ({kinds})) AS f"
    )
    added = _changed(session, _insert_sql(postgres, facts, "1 = 1"))
    if not on_commit:
        session.execute(text("DROP TABLE h21_resp_recent"))
        session.execute(text("DROP TABLE h21_resp_span"))
    return added - removed


def _changed(session: Session, statement: str) -> int:
    """Run an INSERT or DELETE; the number of rows it wrote."""
    return int(cast(CursorResult[Any], session.execute(text(statement))).rowcount)


def newest_respondents(
    session: Session,
    filters: AnalysisFilters,
    limit: int,
    *,
    overall: str | None = None,
    sources: Sequence[str] | None = None,
    facts_from: date | None = None,
) -> list[Any]:
    """The newest ``limit`` respondents matching ``filters`` (and ``sources``), newest week first
    (ties: source, source id), as rows of their six dimension ratings (DIMENSION_CODES order, None:
    not rated) and, with ``overall`` (csat or nps), their answer to it.

    With ``overall``: the respondents who gave that answer, their ratings and weeks taken from
    their dimension-kind answers and that answer (experience.driver_matrix over the facts). Without:
    the respondents who rated a named dimension, from those ratings
    (reliability.dimension_matrix).

    ``facts_from`` (respondents_reading(session).facts_from: the table is PARTIAL): the table holds
    the facts' rows before that week only. The respondents with a matching fact from that week on
    are then the newest; they are grouped from the facts (all their facts of the period, on both
    sides of the split), and the table's rows before the split of everyone else follow (those
    respondents' facts all lie before it, where the table is exact)."""
    if overall is not None and overall not in OVERALL_KINDS:
        raise ValueError(f"overall must be one of {OVERALL_KINDS}, not {overall!r}")
    width = len(RESPONDENT_DIMS) + (1 if overall is not None else 0)
    if facts_from is None or facts_from >= filters.end:
        return [row[:width] for row in _table_rows(session, filters, limit, overall, sources)]
    if facts_from <= filters.start:
        return _facts_rows(session, filters, limit, overall, sources, None)
    recent = _facts_rows(session, filters, limit, overall, sources, facts_from)
    if len(recent) >= limit:
        return recent
    past = _table_rows(session, filters, limit - len(recent), overall, sources, facts_from)
    return recent + [row[:width] for row in past]


def _facts_where(
    filters: AnalysisFilters, overall: str | None, sources: Sequence[str] | None, model: Any = Obs
) -> list[Any]:
    """The facts of the sample's respondents (as driver_matrix and dimension_matrix read them)."""
    from perception.analysis.services.facts import DIMENSION_KINDS

    where = where_facts(model, filters)
    if overall is not None:
        where.append(model.kind.in_((*DIMENSION_KINDS, overall)))
    else:
        where += [model.kind.in_(DIMENSION_KINDS), model.dimension.is_not(None)]
    if sources is not None:
        where.append(model.source.in_(list(sources)))
    return where


def _facts_rows(
    session: Session,
    filters: AnalysisFilters,
    limit: int,
    overall: str | None,
    sources: Sequence[str] | None,
    since: date | None,
) -> list[Any]:
    """The newest ``limit`` respondents grouped from the facts; with ``since``, only those with a
    matching fact of a week from ``since`` on (every fact of theirs in the period grouped)."""
    if since is not None and session.get_bind().dialect.name == "postgresql":
        return _recent_sample(session, filters, limit, overall, sources, since)
    figures = _ratings()
    answer = func.max(case((Obs.kind == overall, Obs.value))) if overall is not None else None
    if answer is not None:
        figures.append(answer)
    where = _facts_where(filters, overall, sources)
    statement = (
        select(*figures)
        .where(*where)
        .group_by(Obs.source, Obs.source_id)
        .order_by(func.max(Obs.period_start).desc(), Obs.source, Obs.source_id)
        .limit(limit)
    )
    if answer is not None:
        statement = statement.having(answer.is_not(None))
    if since is not None:
        recent = select(Obs.source, Obs.source_id).where(*where, Obs.period_start >= since)
        statement = statement.where(tuple_(Obs.source, Obs.source_id).in_(recent))
    return fetch_tuples(session, statement)


def _ratings() -> list[Any]:
    """A respondent's highest rating of each dimension (DIMENSION_CODES order) among their facts."""
    from perception.analysis.services.facts import DIMENSION_CODES, DIMENSION_KINDS

    rated = Obs.kind.in_(DIMENSION_KINDS)
    return [func.max(case((and_(rated, Obs.dimension == d), Obs.value))) for d in DIMENSION_CODES]


#: The columns of a respondent of the split's weeks (_recent_respondents): their source and source
#: id, their newest week in each sample (its matching facts from the split on; None: not in it),
#: their table rows before the split (matching the filters), their six ratings and their two overall
#: answers (each the greater of the facts' and the table's).
_SOURCE, _SOURCE_ID, _WEEK, _PAST = 0, 1, {"csat": 2, "nps": 3, None: 4}, 5
_FIGURES = 6


def _recent_sample(
    session: Session,
    filters: AnalysisFilters,
    limit: int,
    overall: str | None,
    sources: Sequence[str] | None,
    since: date,
) -> list[Any]:
    """PostgreSQL: the newest ``limit`` respondents with a matching fact from ``since`` on, taken
    from the split's respondents as _recent_respondents reads them once for the page's samples
    (the two drivers' and the reliability's), in _facts_rows's order and columns."""
    week = _WEEK[overall]
    answer = _FIGURES + len(RESPONDENT_DIMS) + OVERALL_KINDS.index(overall) if overall is not None else None
    rows = [
        row
        for row in _in_sample(session, filters, overall, sources, since)
        if answer is None or row[answer] is not None
    ]
    # Newest week first, then source and source id (the order of the facts' and the table's reads):
    # the rows come by source and source id, and a stable sort by week keeps that order within one.
    rows.sort(key=itemgetter(week), reverse=True)
    dims = slice(_FIGURES, _FIGURES + len(RESPONDENT_DIMS))
    return [(*row[dims], *((row[answer],) if answer is not None else ())) for row in rows[:limit]]


def _in_sample(
    session: Session,
    filters: AnalysisFilters,
    overall: str | None,
    sources: Sequence[str] | None,
    since: date,
) -> list[tuple[Any, ...]]:
    """The respondents of the split's weeks with a matching fact of the sample's from ``since`` on
    (with its answer or not), in _recent_respondents's order."""
    week = _WEEK[overall]
    wanted = set(sources) if sources is not None else None
    return [
        row
        for row in _recent_respondents(session, filters, since)
        if row[week] is not None and (wanted is None or row[_SOURCE] in wanted)
    ]


def _recent_respondents(session: Session, filters: AnalysisFilters, since: date) -> list[tuple[Any, ...]]:
    """PostgreSQL: every respondent with a fact of the samples' kinds from ``since`` on (any source),
    in the columns _SOURCE ... _FIGURES name, read once per transaction for the page's three samples
    (freshness.once_per_transaction): one pass over the split's weeks instead of one per sample.

    Each respondent is grouped from their facts from ``since`` on (one aggregate, through the period
    index) and merged with the table's rows of theirs before it (a LATERAL probe of
    ix_experience_respondent_source, which finds nothing for nearly everyone). The table is exact
    before its split and every figure is a maximum, so the greater of the two parts is what grouping
    all their facts of the period gives; and a respondent's newest week among their facts from
    ``since`` on is their newest in the period (all their others are earlier). Grouping each
    respondent's facts in a LATERAL over the facts per sample cost ~10 us a respondent: 0.4-0.5 s
    for the three samples of 20,000 on a Sunday evening at a national provider's size (28,500
    respondents in the week)."""
    from perception.analysis.services.facts import DIMENSION_KINDS

    def take() -> list[tuple[Any, ...]]:
        dimension_kind = Obs.kind.in_(DIMENSION_KINDS)
        rated = and_(dimension_kind, Obs.dimension.is_not(None))
        newest = [
            func.max(case((or_(dimension_kind, Obs.kind == k), Obs.period_start))) for k in OVERALL_KINDS
        ]
        newest.append(func.max(case((rated, Obs.period_start))))
        own = _ratings()
        own += [func.max(case((Obs.kind == k, Obs.value))) for k in OVERALL_KINDS]
        recent = (
            select(Obs.source, Obs.source_id, *(w.label(f"w{i}") for i, w in enumerate(newest)))
            .add_columns(*(f.label(f"f{i}") for i, f in enumerate(own)))
            .where(
                *where_facts(Obs, filters),
                Obs.kind.in_((*DIMENSION_KINDS, *OVERALL_KINDS)),
                Obs.period_start >= since,
            )
            .group_by(Obs.source, Obs.source_id)
            .subquery("recent")
        )
        kept = [*(R[name] for name in RESPONDENT_DIMS), *(R[kind] for kind in OVERALL_KINDS)]
        past = (
            select(func.count().label("past_rows"), *(func.max(c).label(f"p{i}") for i, c in enumerate(kept)))
            .where(
                R.source == recent.c.source,
                R.source_id == recent.c.source_id,
                R.period_start < since,
                *where_facts(R, filters),
            )
            .lateral("past")
        )
        statement = select(
            recent.c.source,
            recent.c.source_id,
            *(recent.c[f"w{i}"] for i in range(len(newest))),
            past.c.past_rows,
            # PostgreSQL's greatest() passes over NULLs: a figure from either part, or NULL.
            *(func.greatest(recent.c[f"f{i}"], past.c[f"p{i}"]) for i in range(len(kept))),
        ).select_from(recent.join(past, true()))
        # The aggregate's own order (the planner adds no sort): _recent_sample relies on it.
        return fetch_tuples(session, statement.order_by(recent.c.source, recent.c.source_id))

    return once_per_transaction(session, ("respondents.recent", filters, since), take)


def _table_rows(
    session: Session,
    filters: AnalysisFilters,
    limit: int,
    overall: str | None,
    sources: Sequence[str] | None,
    before: date | None = None,
) -> list[Any]:
    """The newest ``limit`` respondents from the table, as rows of their ratings, ``overall``
    answer, week, source and source id; with ``before`` (a PARTIAL table's split), from its rows
    of the weeks before it, leaving out the respondents with a matching fact from it on (which
    _facts_rows gives whole)."""
    where = where_facts(R, filters)
    if sources is not None:
        where.append(R.source.in_(list(sources)))
    postgres = session.get_bind().dialect.name == "postgresql"
    left_out: set[tuple[str, int]] = set()
    if before is not None:
        where.append(R.period_start < before)
        if postgres:
            # The split's respondents with rows before it, from the page's one pass over the split
            # (_recent_respondents) instead of a second read of its facts per sample: their rows are
            # read and dropped, so as many more rows are asked for.
            left_out = {
                (row[_SOURCE], row[_SOURCE_ID])
                for row in _in_sample(session, filters, overall, sources, before)
                if row[_PAST]
            }
        else:
            recent = select(Obs.source, Obs.source_id).where(
                *_facts_where(filters, overall, sources), Obs.period_start >= before
            )
            where.append(tuple_(R.source, R.source_id).not_in(recent))
    asked = limit + len(left_out)
    dims = [R[name] for name in RESPONDENT_DIMS]
    takes_part: Any
    single_kept: Any
    if overall is not None:
        answer = R[overall]
        takes_part = or_(R.dim_kind, answer.is_not(None))
        single_kept = answer.is_not(None)  # the one row is the group, and has the answer
    else:
        answer = None
        takes_part = R.rated
        single_kept = R.rated
    # Each part ordered and limited on its own, so that the one-cell respondents are an index range
    # scan that stops after ``limit`` rows (ix_experience_respondent_newest, or the region's); the
    # planner does not push the order into a union of a plain and a grouped part.
    single = (
        select(
            *dims,
            *([answer] if answer is not None else []),
            R.period_start.label("week"),
            R.source,
            R.source_id,
        )
        .where(*where, R.cells == 1, single_kept)
        .order_by(R.period_start.desc(), R.source, R.source_id)
        .limit(asked)
    )
    newest = func.max(R.period_start)
    spanning = (
        select(
            *(func.max(c) for c in dims),
            *([func.max(answer)] if answer is not None else []),
            newest.label("week"),
            R.source,
            R.source_id,
        )
        .where(*where, R.cells > 1, takes_part)
        .group_by(R.source, R.source_id)
        .order_by(newest.desc(), R.source, R.source_id)
        .limit(asked)
    )
    if answer is not None:
        spanning = spanning.having(func.max(answer).is_not(None))
    if not postgres:
        # SQLite takes no ORDER BY or LIMIT on a compound select's member: each part its own
        # subquery (PostgreSQL keeps the plain parts; the plans are the same).
        single, spanning = select(single.subquery()), select(spanning.subquery())
    both = union_all(single, spanning).subquery()
    statement = select(*both.c).order_by(both.c.week.desc(), both.c.source, both.c.source_id).limit(asked)
    rows = fetch_tuples(session, statement)
    if not left_out:
        return rows
    # A respondent is one row of either part (``cells`` tells which), so at most len(left_out) go.
    return [row for row in rows if (row[-2], row[-1]) not in left_out][:limit]


def fetch_tuples(session: Session, statement: Any, *, binary: bool = False) -> list[tuple[Any, ...]]:
    """The rows of ``statement`` as the driver's plain tuples, in the session's transaction.
    SQLAlchemy's result rows cost some 60 ms of CPU per 20,000 (a third of the experience page's
    remaining CPU); these columns need none of its type processing (dates, numbers, NULL).
    ``binary``: on PostgreSQL, the rows in the binary format (numbers and text come back as the
    same Python values, parsed with a third of the CPU: issue 19, the change look's 300,000
    histogram rows)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        # SQLite: SQLAlchemy binds the parameters (its dates as text), the driver's cursor gives
        # the rows (sqlite3's plain tuples of floats and None; a third less CPU than result rows).
        result = connection.execute(statement)
        try:
            return list(result.cursor.fetchall())
        finally:
            result.close()
    compiled = statement.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    cursor = connection.connection.cursor(binary=True) if binary else connection.connection.cursor()
    try:
        cursor.execute(compiled.string, compiled.params)
        return list(cursor.fetchall())
    finally:
        cursor.close()
