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
services.rollup.refresh_rollup, the hourly job) and records the facts' write signature it was
built from; ``respondents_usable`` tells the pages whether it matches the facts right now,
otherwise they read the facts (always right, slower), as for the weekly sums.

Public API: ``refresh_respondents``, ``respondents_usable``, ``newest_respondents``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, or_, select, text, union_all
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from perception.analysis.models import RESPONDENT_DIMS, ExperienceRespondentState, experience_respondent
from perception.analysis.services.filters import AnalysisFilters, where_facts
from perception.core.models.base import utcnow

R = experience_respondent.c
#: The overall answers kept per respondent (the drivers explain one of them).
OVERALL_KINDS = ("csat", "nps")


def _state(session: Session) -> ExperienceRespondentState | None:
    return session.scalar(select(ExperienceRespondentState).order_by(ExperienceRespondentState.id).limit(1))


def respondents_usable(session: Session) -> bool:
    """Whether experience_respondent was built from the facts as they are now."""
    from perception.analysis.services.rollup import facts_signature

    current = facts_signature(session)
    if current is None:
        return False
    try:
        with session.begin_nested():  # a database migrated before the table existed has none
            state = _state(session)
    except (OperationalError, ProgrammingError):
        return False
    return state is not None and state.signature == current


def _any(condition: str, postgres: bool) -> str:
    """Whether any fact of the group meets ``condition``: PostgreSQL's bool_or; SQLite has no
    boolean aggregate, and stores a boolean as 0 or 1 (as SQLAlchemy's Boolean reads it)."""
    if postgres:
        return f"bool_or({condition})"
    return f"max(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def refresh_respondents(session: Session, *, force: bool = False) -> int | None:
    """Rebuild experience_respondent from the facts; its number of rows (None: already current)."""
    from perception.analysis.services.facts import DIMENSION_CODES, DIMENSION_KINDS
    from perception.analysis.services.rollup import facts_signature

    postgres = session.get_bind().dialect.name == "postgresql"
    signature = facts_signature(session)
    if signature is None:
        return None
    state = _state(session)
    if state is not None and state.signature == signature and not force:
        return None
    started = time.perf_counter()
    dim_kinds = ", ".join(f"'{k}'" for k in DIMENSION_KINDS)
    kinds = ", ".join(f"'{k}'" for k in (*DIMENSION_KINDS, *OVERALL_KINDS))
    cell = "period_start, source, source_id, region_id, service_id, tier_id, customer_id"
    dims = ", ".join(
        f"max(CASE WHEN kind IN ({dim_kinds}) AND dimension = '{code}' THEN value END)"
        for code in DIMENSION_CODES
    )
    overall = ", ".join(f"max(CASE WHEN kind = '{k}' THEN value END)" for k in OVERALL_KINDS)
    dim_kind = _any(f"kind IN ({dim_kinds})", postgres)
    rated = _any(f"kind IN ({dim_kinds}) AND dimension IS NOT NULL", postgres)
    if postgres:
        session.execute(text("SET LOCAL work_mem = '128MB'"))
    session.execute(delete(experience_respondent))
    session.execute(
        text(
            f"INSERT INTO experience_respondent ({cell}, cells, dim_kind, rated, "
            f"{', '.join(RESPONDENT_DIMS)}, {', '.join(OVERALL_KINDS)}) "
            f"SELECT {cell}, count(*) OVER (PARTITION BY source, source_id), "
            f"{dim_kind}, {rated}, "
            f"{dims}, {overall} FROM experience_observation WHERE kind IN ({kinds}) "
            f"GROUP BY {cell} ORDER BY period_start DESC, source, source_id"
        )
    )
    # Statistics for the planner now, not when autovacuum comes by: the samples' index scans.
    session.execute(text("ANALYZE experience_respondent"))
    rows = session.scalar(select(func.count()).select_from(experience_respondent)) or 0
    if state is None:
        state = ExperienceRespondentState(signature=signature)
        session.add(state)
    state.signature = signature
    state.refreshed_at = utcnow()
    state.rows = rows
    state.seconds = time.perf_counter() - started
    session.flush()
    return rows


def newest_respondents(
    session: Session,
    filters: AnalysisFilters,
    limit: int,
    *,
    overall: str | None = None,
    sources: Sequence[str] | None = None,
) -> list[Any]:
    """The newest ``limit`` respondents matching ``filters`` (and ``sources``), newest week first
    (ties: source, source id), as rows of their six dimension ratings (DIMENSION_CODES order, None:
    not rated) and, with ``overall`` (csat or nps), their answer to it.

    With ``overall``: the respondents who gave that answer, their ratings and weeks taken from
    their dimension-kind answers and that answer (experience.driver_matrix over the facts). Without:
    the respondents who rated a named dimension, from those ratings
    (reliability.dimension_matrix)."""
    if overall is not None and overall not in OVERALL_KINDS:
        raise ValueError(f"overall must be one of {OVERALL_KINDS}, not {overall!r}")
    where = where_facts(R, filters)
    if sources is not None:
        where.append(R.source.in_(list(sources)))
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
        .limit(limit)
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
        .limit(limit)
    )
    if answer is not None:
        spanning = spanning.having(func.max(answer).is_not(None))
    if session.get_bind().dialect.name != "postgresql":
        # SQLite takes no ORDER BY or LIMIT on a compound select's member: each part its own
        # subquery (PostgreSQL keeps the plain parts; the plans are the same).
        single, spanning = select(single.subquery()), select(spanning.subquery())
    both = union_all(single, spanning).subquery()
    width = len(dims) + (1 if answer is not None else 0)
    picked = list(both.c)[:width]
    statement = select(*picked).order_by(both.c.week.desc(), both.c.source, both.c.source_id).limit(limit)
    return fetch_tuples(session, statement)


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
