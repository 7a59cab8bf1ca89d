"""The perception index's sums split at the current week (issue 19; analysis.services.freshness):
after a declared answer of the current week the index is read from the sums' past weeks and the
facts' weeks from the split, merged per respondent, and equals the facts' index for every grouping,
period, filter, grain and voice, including respondents whose rows span the split (a report entry
covering two weeks, a respondent already in the sums who answers again in the current week, one of
the spanning table); any other write makes the sums stale and the facts are read; the partial
refresh rebuilds the weeks from the split (and the earlier cells of respondents now spanning it)
alone, giving the rows a whole rebuild gives. On SQLite and PostgreSQL (own database: the counters
move at commits)."""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from perception.analysis.models import (
    INDEX_MOMENTS,
    INDEX_SUMS,
    experience_index_rollup,
    experience_index_spanning,
)
from perception.analysis.services.facts import DIMENSION_CODES
from perception.analysis.services.filters import AnalysisFilters
from perception.analysis.services.freshness import Freshness, split_week_now
from perception.analysis.services.perception_index import index_by_groups
from perception.analysis.services.rollup import refresh_rollup, rollup_reading
from perception.core.models.facts import ExperienceObservation as Obs
from perception.core.models.org import Region
from perception.setup.models.catalog import Service, ServiceTier
from tests.analysis.test_h19agg_rollup import _same_index
from tests.analysis.test_lead_week_split import _this_monday, _write
from tests.facts import analysed_facts

WEEKS = 20
SOURCES = ("survey", "callback", "sampling", "feedback")
GROUPINGS = (
    (),
    ("region",),
    ("service",),
    ("period",),
    ("region", "service"),
    ("region", "period"),
    ("service", "period"),
)


def _rows(
    rng: random.Random, week: date, source: str, source_id: int, region: int, service: Any, tier: Any
) -> list[dict]:
    """One respondent's ratings in one cell: some dimensions, some rated twice, three scales. (Not a
    scale of one point: the facts then give a group of respondents without a rating, the sums
    none, before this change as after it.)"""
    rows = []
    for code in rng.sample(DIMENSION_CODES, rng.randint(1, 4)):
        for _ in range(rng.choice([1, 1, 2])):
            lo, hi = rng.choice([(1, 5), (1, 7), (1, 5), (0, 10)])
            rows.append(
                {
                    "source": source,
                    "source_id": source_id,
                    "observed_on": week + timedelta(days=rng.randrange(7)),
                    "period_start": week,
                    "region_id": region,
                    "service_id": service,
                    "tier_id": tier,
                    "kind": rng.choice(["rating", "likert"]),
                    "dimension": code,
                    "value": float(rng.randint(lo, hi)),
                    "scale_min": float(lo),
                    "scale_max": float(hi),
                }
            )
    return rows


def _cell(rng: random.Random) -> tuple[int, int | None, int | None]:
    region = rng.choice([1, 1, 1, 2, 3, 4, 5, 6])
    service = rng.choice([1, 2, 3, 4, None])
    return region, service, (rng.choice([1, 2, None]) if service else None)


class World:
    """The seeded respondents: ``single`` (source, id, week, cell) of one cell each."""

    def __init__(self) -> None:
        self.single: list[tuple[str, int, date, tuple]] = []
        self.next_id = 1

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


def _seed(session: Session, rng: random.Random, current: date, split: date) -> World:
    session.add_all([Region(id=r, code=f"R{r}", name_zh=f"区{r}", name_en=f"R{r}") for r in range(1, 7)])
    session.add_all([Service(id=s, code=f"S{s}", name_zh=f"服{s}", name_en=f"S{s}") for s in range(1, 5)])
    session.add_all([ServiceTier(id=t, code=f"T{t}", name_zh=f"级{t}", name_en=f"T{t}") for t in (1, 2)])
    session.flush()
    world, rows = World(), []
    for back in range(-1, WEEKS):  # -1: next week's rows (a report dated ahead)
        week = current - timedelta(weeks=back)
        if back in (5, 6):
            continue  # a gap of two weeks
        for _ in range(25):
            source, sid, cell = rng.choice(SOURCES), world.new_id(), _cell(rng)
            rows += _rows(rng, week, source, sid, *cell)
            world.single.append((source, sid, week, cell))
    # Respondents across cells: two services in one week, two weeks (a report entry), and across
    # the split (the week before it and the current week).
    for weeks in [(0, 0), (3, 4), (8, 8)] * 3 + [(-1, 0)] * 6:
        source, sid = rng.choice(SOURCES), world.new_id()
        for back in weeks:
            rows += _rows(rng, split + timedelta(weeks=back), source, sid, *_cell(rng))
        if weeks == (0, 0):
            rows += _rows(rng, split - timedelta(weeks=2), source, sid, *_cell(rng))
    session.execute(insert(Obs), rows)
    session.commit()
    analysed_facts(session)
    return world


_declare = _write  # fact rows of a week, declared or not, committed


def _built(session: Session, rng: random.Random, current: date, split: date) -> World:
    """``_seed``'s facts and the pre-aggregates built from them, committed."""
    world = _seed(session, rng, current, split)
    refresh_rollup(session)
    session.commit()
    return world


def _answer(session: Session, rng: random.Random, world: World, week: date, *, declared: bool = True) -> None:
    """A new respondent's answer of ``week`` (as the survey answer path writes it)."""
    _declare(session, week, _rows(rng, week, "survey", world.new_id(), *_cell(rng)), declared=declared)


def _again(session: Session, rng: random.Random, world: World, current: date, split: date) -> None:
    """Respondents the sums hold in one earlier cell answer again in the current week: one in the
    same region and service (merged with its earlier cell in a region or service grouping), one
    elsewhere; and a respondent of the spanning table too."""
    earlier = [r for r in world.single if r[2] < split]
    for source, sid, _week, cell in rng.sample(earlier, 3):
        _declare(session, current, _rows(rng, current, source, sid, *cell))
    source, sid, _week, _cell_ = rng.choice(earlier)
    _declare(session, current, _rows(rng, current, source, sid, *_cell(rng)))
    spanning = session.execute(
        select(experience_index_spanning.c.source, experience_index_spanning.c.source_id).where(
            experience_index_spanning.c.period_start < split
        )
    ).first()
    assert spanning is not None
    _declare(session, current, _rows(rng, current, spanning[0], spanning[1], *_cell(rng)))


def _periods(split: date) -> list[tuple[date, date]]:
    return [
        (split - timedelta(weeks=13), split + timedelta(weeks=1)),  # the default 14 weeks
        (split - timedelta(weeks=51), split + timedelta(weeks=1)),  # 52 weeks
        (split - timedelta(weeks=WEEKS), split + timedelta(weeks=2)),  # all, the next week's too
        (split - timedelta(weeks=8), split),  # ends at the split: the sums alone
        (split, split + timedelta(weeks=1)),  # the current week alone: the facts alone
        (split - timedelta(weeks=1), split + timedelta(weeks=1)),
    ]


FILTERS: list[dict[str, Any]] = [
    {},
    {"region_ids": frozenset({1, 6})},
    {"service_id": 2},
    {"tier_id": 1},
    {"region_ids": frozenset({1}), "service_id": 3},
]


def _same_as_facts(session: Session, split: date, *, full: bool = True) -> int:
    compared = 0
    # Every period with every filter; the voices pairwise (each period, and each filter, meets both).
    for at, (start, end) in enumerate(_periods(split) if full else _periods(split)[:1] + _periods(split)[4:]):
        for extra_at, extra in enumerate(FILTERS if full else FILTERS[:2]):
            f = AnalysisFilters(start=start, end=end, **extra)
            for voice in (("customers", "reports")[(at + extra_at) % 2],):
                for grain in ("week", "month") if not extra else ("week",):
                    want = index_by_groups(session, f, GROUPINGS, voice=voice, grain=grain, use_rollup=False)
                    got = index_by_groups(session, f, GROUPINGS, voice=voice, grain=grain, use_rollup=True)
                    for one, other in zip(got, want, strict=True):
                        _same_index(one, other)
                        compared += len(other)
    return compared


def _sums(session: Session) -> tuple[list[tuple], list[tuple]]:
    """The index sums' rows (without ids), values rounded far below their noise."""

    def rows(table: Any, keys: list[str], values: tuple[str, ...]) -> list[tuple]:
        found = session.execute(select(*(table.c[k] for k in keys), *(table.c[v] for v in values))).all()
        return sorted(
            ((tuple(r[: len(keys)]), tuple(float(v) for v in r[len(keys) :])) for r in found),
            key=lambda row: _sorted_key(row[0]),
        )

    cell = ["period_start", "region_id", "service_id", "tier_id", "source"]
    return (
        rows(experience_index_rollup, ["level", *cell], ("respondents", *INDEX_SUMS, *INDEX_MOMENTS)),
        rows(experience_index_spanning, [*cell, "source_id"], INDEX_SUMS),
    )


def _same_sums(got: tuple[list[tuple], list[tuple]], want: tuple[list[tuple], list[tuple]]) -> None:
    for mine, theirs in zip(got, want, strict=True):
        assert [k for k, _ in mine] == [k for k, _ in theirs]
        for (key, a), (_, b) in zip(mine, theirs, strict=True):
            close = [math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-9) for x, y in zip(a, b, strict=True)]
            assert all(close), key


def _sorted_key(row: tuple) -> tuple:
    return tuple((v is None, v) for v in row)


def test_after_answers_of_the_current_week_the_index_adds_up(engine):
    rng = random.Random(2119)
    split, current = split_week_now(), _this_monday()
    with Session(engine) as session:
        world = _built(session, rng, current, split)
        assert rollup_reading(session).freshness is Freshness.CURRENT
        assert _same_as_facts(session, split, full=False) > 50

        _answer(session, rng, world, current)
        found = rollup_reading(session)
        assert found.freshness is Freshness.PARTIAL and found.facts_from == split
        assert _same_as_facts(session, split) > 500

        # Respondents the sums hold (in one earlier cell, or spanning) answer again this week.
        _again(session, rng, world, current, split)
        assert rollup_reading(session).freshness is Freshness.PARTIAL
        _same_as_facts(session, split, full=False)


def test_the_partial_refresh_gives_the_sums_of_a_whole_rebuild(engine):
    rng = random.Random(2120)
    split, current = split_week_now(), _this_monday()
    with Session(engine) as session:
        world = _built(session, rng, current, split)
        r = experience_index_rollup.c
        past = set(session.scalars(select(r.id).where(r.period_start < split)))
        top = max(session.scalars(select(r.id)))

        # New respondents only: the earlier weeks' rows stay as they are.
        _answer(session, rng, world, current)
        _answer(session, rng, world, current)
        assert refresh_rollup(session) is not None
        session.commit()
        assert rollup_reading(session).freshness is Freshness.CURRENT
        # The earlier weeks' rows were not rewritten; the later ones were.
        assert set(session.scalars(select(r.id).where(r.period_start < split))) == past
        assert min(session.scalars(select(r.id).where(r.period_start >= split))) > top
        partial = _sums(session)
        refresh_rollup(session, force=True)
        session.commit()
        _same_sums(partial, _sums(session))
        _same_as_facts(session, split, full=False)

        # Respondents of the sums' earlier cells (and of the spanning table) answer again: their
        # earlier cells leave the sums for the spanning table, as in a whole rebuild.
        _again(session, rng, world, current, split)
        _answer(session, rng, world, current)
        assert rollup_reading(session).freshness is Freshness.PARTIAL
        assert refresh_rollup(session) is not None
        session.commit()
        partial = _sums(session)
        refresh_rollup(session, force=True)
        session.commit()
        _same_sums(partial, _sums(session))
        _same_as_facts(session, split, full=False)


@pytest.mark.parametrize(
    "write", ["undeclared current week", "declared last week", "a past row corrected", "a past row withdrawn"]
)  # "declared last week": a weekly report's rows, which move the split back to their week
def test_any_other_write_makes_the_sums_stale_and_the_index_reads_the_facts(engine, write):
    rng = random.Random(2121)
    split, current = split_week_now(), _this_monday()
    with Session(engine) as session:
        world = _built(session, rng, current, split)
        past = session.scalar(select(Obs.id).where(Obs.period_start < split).limit(1))
        if write == "undeclared current week":
            _answer(session, rng, world, current, declared=False)
        elif write == "declared last week":
            _answer(session, rng, world, current - timedelta(weeks=1))
        elif write == "a past row corrected":
            session.execute(update(Obs).where(Obs.id == past).values(value=Obs.scale_max))
            session.commit()
        else:
            session.execute(delete(Obs).where(Obs.id == past))
            session.commit()
        found = rollup_reading(session)
        if write == "declared last week":
            assert found.freshness is Freshness.PARTIAL and found.facts_from == min(
                split, current - timedelta(weeks=1)
            )
        else:
            assert found.freshness is Freshness.STALE
        _same_as_facts(session, split, full=False)
        _same_as_facts(session, current - timedelta(weeks=1), full=False)
        refresh_rollup(session)  # a whole rebuild, or from the week the report wrote
        session.commit()
        assert rollup_reading(session).freshness is Freshness.CURRENT
        _same_as_facts(session, split, full=False)


@contextlib.contextmanager
def statements_read(engine: Any, monkeypatch: Any, seen: Any) -> Iterator[None]:
    """``seen(conn, cursor, statement, parameters, context, executemany)`` called for each
    statement sent inside: SQLAlchemy's, and on PostgreSQL those the index sends through the
    driver's own cursor (respondents.fetch_tuples; on SQLite that goes through SQLAlchemy)."""
    from sqlalchemy import event

    from perception.analysis.services import perception_index

    real = perception_index.fetch_tuples

    def fetched(session: Session, statement: Any, *, binary: bool = False) -> list[Any]:
        dialect = session.get_bind().dialect
        if dialect.name == "postgresql":
            compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
            seen(None, None, compiled.string, compiled.params, None, False)
        return real(session, statement, binary=binary)

    with monkeypatch.context() as m:
        m.setattr(perception_index, "fetch_tuples", fetched)
        event.listen(engine, "before_cursor_execute", seen)
        try:
            yield
        finally:
            event.remove(engine, "before_cursor_execute", seen)


def test_after_an_answer_the_past_weeks_are_not_read_from_the_facts(engine, monkeypatch):
    """The pages' index after a declared answer: the facts are read from the split on (and, for
    the respondents found there, their earlier rows by respondent), never the period's past weeks."""

    rng = random.Random(2122)
    split, current = split_week_now(), _this_monday()
    with Session(engine) as session:
        world = _built(session, rng, current, split)
        _answer(session, rng, world, current)
        assert rollup_reading(session).freshness is Freshness.PARTIAL
        read: list[tuple[str, Any]] = []

        def seen(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
            if "experience_observation" in statement and "FROM" in statement:
                read.append((statement, parameters))

        with statements_read(engine, monkeypatch, seen):
            f = AnalysisFilters(start=split - timedelta(weeks=51), end=split + timedelta(weeks=1))
            got = index_by_groups(session, f, GROUPINGS[:4], use_rollup=True)
        want = index_by_groups(session, f, GROUPINGS[:4], use_rollup=False)
        for one, other in zip(got, want, strict=True):
            _same_index(one, other)
        assert read  # the current week's rows
        for statement, parameters in read:
            values = list(parameters.values() if isinstance(parameters, dict) else parameters)
            bound = {v if isinstance(v, date) else date.fromisoformat(v) for v in values if _is_day(v)}
            # From the split on, or up to it for some respondents only (their index: a list of
            # them, or on PostgreSQL an array unnested).
            by_respondent = "source_id IN" in statement or "unnest" in statement
            assert split in bound and (min(bound) >= split or by_respondent), statement


def _is_day(value: Any) -> bool:
    if isinstance(value, date):
        return True
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True
