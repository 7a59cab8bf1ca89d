"""The weekly sums' split at the current week (issue 19; analysis.services.freshness): an answer of
the current week, declared so, leaves the pre-aggregate's past weeks current, and the pages read the
weeks from its split from the facts, adding up to exactly what the facts give; any other write to
the facts makes it stale; the refresh then rebuilds the weeks from the split alone, giving the rows a
whole rebuild gives.

Data shaped like a provider's: large and small regions, services with and without tiers, two scales,
weeks with gaps, rows of the current and of future weeks. On SQLite and PostgreSQL (own database:
the counters move at commits, which the rolled-back fixture never makes).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, event, insert, select, update
from sqlalchemy.orm import Session

from perception.analysis.models import ExperienceRollup
from perception.analysis.services.facts import FactTable, aggregate, aggregate_each
from perception.analysis.services.filters import AnalysisFilters
from perception.analysis.services.freshness import Freshness, split_week_now
from perception.analysis.services.rollup import refresh_rollup, rollup_reading
from perception.core.models.facts import ExperienceObservation as Obs
from perception.core.models.org import Region
from perception.kpi.models import ExperienceWeekLog
from perception.kpi.services.data_version import current_week_write
from perception.setup.models.catalog import Service, ServiceTier
from tests.facts import analysed_facts

ZONE = "Asia/Shanghai"
WEEKS = 20


def _this_monday() -> date:
    """The organisation's current week: the week an answer names (the split may be a week earlier,
    in the hours when UTC still sees the previous week: before 08:00 on Monday in China)."""
    from datetime import datetime

    today = datetime.now(ZoneInfo(ZONE)).date()
    return today - timedelta(days=today.weekday())


def _fact(
    rng: random.Random, week: date, source_id: int, region: int, service: int | None, tier: int | None
) -> dict:
    kind, dimension, lo, hi = rng.choice(
        [
            ("csat", None, 1, 5),
            ("dimension", "response", 1, 5),
            ("dimension", "quality", 1, 7),
            ("nps", None, 0, 10),
        ]
    )
    return {
        "source": rng.choice(["survey", "callback", "report"]),
        "source_id": source_id,
        "observed_on": week + timedelta(days=rng.randrange(7)),
        "period_start": week,
        "region_id": region,
        "service_id": service,
        "tier_id": tier,
        "kind": kind,
        "dimension": dimension,
        "value": float(rng.randint(lo, hi)),
        "scale_min": float(lo),
        "scale_max": float(hi),
    }


def _seed(session: Session, rng: random.Random, current: date) -> None:
    session.add_all([Region(id=r, code=f"R{r}", name_zh=f"区{r}", name_en=f"R{r}") for r in range(1, 7)])
    session.add_all([Service(id=s, code=f"S{s}", name_zh=f"服{s}", name_en=f"S{s}") for s in range(1, 5)])
    session.add_all([ServiceTier(id=t, code=f"T{t}", name_zh=f"级{t}", name_en=f"T{t}") for t in (1, 2)])
    session.flush()
    rows = []
    for back in range(-1, WEEKS):  # -1: next week's rows (a report dated ahead)
        week = current - timedelta(weeks=back)
        if back in (5, 6):
            continue  # a gap of two weeks
        for region in range(1, 7):
            # Region 1 large, region 6 answering rarely.
            for _ in range(40 if region == 1 else 1 if region == 6 and back % 3 else 6):
                service = rng.choice([1, 2, 3, 4, None])
                tier = rng.choice([1, 2, None]) if service else None
                rows.append(_fact(rng, week, rng.randrange(10**6), region, service, tier))
    session.execute(insert(Obs), rows)
    session.commit()
    analysed_facts(session)


def _built(session: Session, rng: random.Random, current: date) -> None:
    """The provider-shaped facts (``_seed``) and their pre-aggregates built from them, committed."""
    _seed(session, rng, current)
    refresh_rollup(session)
    session.commit()


def _write(session: Session, week: date, rows: list[dict], *, declared: bool = True) -> None:
    """Fact rows of ``week``, committed: declared so, as the answer path and a weekly report write
    theirs, or not."""
    conn = session.connection()
    if declared:
        with current_week_write(conn, "experience_observation", week, ZONE):
            session.execute(insert(Obs), rows)
    else:
        session.execute(insert(Obs), rows)
    session.commit()


def _answer(session: Session, rng: random.Random, week: date, *, declared: bool) -> None:
    """One answer's rows, written as the answer path writes them (declared current-week) or not."""
    rows = [_fact(rng, week, rng.randrange(10**6), rng.randint(1, 6), 2, 1) for _ in range(3)]
    _write(session, week, rows, declared=declared)


SHAPES = [
    {"by": ("period", "region", "service")},
    {"by": ("region", "service")},
    {"by": ("period",)},
    {"by": ("region",)},
    {"by": ("service",)},
    {"by": ("service",), "region_ids": frozenset({1, 6})},
    {"by": ("period", "region"), "service_id": 2},
    {"by": ("region",), "tier_id": 1},
    {"by": ("period", "service"), "kinds": ("csat", "nps")},
    {"by": ("region", "service"), "sources": ("survey",)},
    {"by": ("region", "service"), "cells": {(2, 1), (3, 4)}},
]


def _table(session: Session, start: date, end: date, shape: dict, *, use_rollup: bool) -> list[tuple]:
    shape = dict(shape)
    by = shape.pop("by")
    kw = {k: shape.pop(k) for k in ("kinds", "sources", "cells") if k in shape}
    table = aggregate(
        session, AnalysisFilters(start=start, end=end, **shape), by=by, use_rollup=use_rollup, **kw
    )
    return _fact_rows(table)


def _fact_rows(table: FactTable) -> list[tuple]:
    """A FactTable's rows, sorted, the statistics rounded far below their noise."""
    rows = zip(
        table.period.tolist(), table.region.tolist(), table.service.tolist(), table.kind.tolist(),
        table.dimension.tolist(), map(tuple, table.stats.round(9).tolist()), strict=True,
    )  # fmt: skip
    return sorted(rows, key=repr)


def _periods(split: date) -> list[tuple[date, date]]:
    return [
        (split - timedelta(weeks=13), split + timedelta(weeks=1)),  # the default 14 weeks
        (split - timedelta(weeks=WEEKS), split + timedelta(weeks=2)),  # all, the next week's too
        (split - timedelta(weeks=8), split),  # ends at the split: the pre-aggregate alone
        (split, split + timedelta(weeks=1)),  # the current week alone: the facts alone
        (split - timedelta(weeks=1), split + timedelta(weeks=1)),
    ]


def _same_as_facts(session: Session, split: date) -> None:
    for start, end in _periods(split):
        for shape in SHAPES:
            want = _table(session, start, end, shape, use_rollup=False)
            assert _table(session, start, end, shape, use_rollup=True) == want, (start, end, shape)


def _rollup_rows(session: Session) -> list[tuple]:
    r = ExperienceRollup
    cols = [r.level, r.period_start, r.region_id, r.service_id, r.tier_id, r.source, r.kind, r.dimension,
            r.scale_min, r.scale_max, r.n, r.s, r.ss, r.top2, r.promoters, r.detractors]  # fmt: skip
    return sorted((tuple(row) for row in session.execute(select(*cols))), key=repr)


def test_an_answer_of_the_current_week_keeps_the_past_weeks_and_adds_up(engine):
    rng = random.Random(19)
    split, current = split_week_now(), _this_monday()
    with Session(engine) as session:
        _built(session, rng, current)
        assert rollup_reading(session).freshness is Freshness.CURRENT

        _answer(session, rng, current, declared=True)
        found = rollup_reading(session)
        assert found.freshness is Freshness.PARTIAL and found.facts_from == split
        _same_as_facts(session, split)

        # A second answer, then the refresh: the weeks from the split alone, the rows a whole
        # rebuild gives.
        _answer(session, rng, current, declared=True)
        before = session.scalar(
            select(ExperienceRollup.id).where(ExperienceRollup.period_start < split).limit(1)
        )
        assert refresh_rollup(session) is not None
        session.commit()
        assert rollup_reading(session).freshness is Freshness.CURRENT
        kept = session.scalar(select(ExperienceRollup.id).where(ExperienceRollup.id == before))
        assert kept == before  # the past weeks' rows were not rewritten
        partial = _rollup_rows(session)
        refresh_rollup(session, force=True)
        session.commit()
        assert _rollup_rows(session) == partial
        _same_as_facts(session, split)


def _stale_write(session: Session, rng: random.Random, write: str, split: date, current: date) -> None:
    """A committed write that is not an answer of the current week: an undeclared answer, a past
    row corrected, a past row withdrawn (``write``)."""
    past = session.scalar(select(Obs.id).where(Obs.period_start < split).limit(1))
    if write == "undeclared current week":
        _answer(session, rng, current, declared=False)
    elif write == "a past row corrected":
        session.execute(update(Obs).where(Obs.id == past).values(value=Obs.scale_min))
        session.commit()
    else:
        assert write == "a past row withdrawn", write
        session.execute(delete(Obs).where(Obs.id == past))
        session.commit()


@pytest.mark.parametrize(
    "write",
    [
        "undeclared current week",
        "a past row corrected",
        "a past row withdrawn",
    ],
)
def test_any_other_write_makes_it_stale_and_the_pages_read_the_facts(engine, write):
    rng = random.Random(20)
    split, current = split_week_now(), _this_monday()
    with Session(engine) as session:
        _built(session, rng, current)
        _stale_write(session, rng, write, split, current)
        assert rollup_reading(session).freshness is Freshness.STALE
        _same_as_facts(session, split)
        refresh_rollup(session)  # a whole rebuild
        session.commit()
        assert rollup_reading(session).freshness is Freshness.CURRENT
        _same_as_facts(session, split)


def test_inside_the_answering_transaction_its_own_rows_count(engine):
    """Before the commit, a reader in the writing transaction sees its rows: a declared week before
    the split (a clock pinned in the past) moves its split back to that week."""
    rng = random.Random(21)
    split, current = split_week_now(), _this_monday()
    with Session(engine) as session:
        _built(session, rng, current)
        for week, expected in ((split - timedelta(weeks=3), split - timedelta(weeks=3)), (current, split)):
            conn = session.connection()
            with current_week_write(conn, "experience_observation", week, ZONE):
                session.execute(insert(Obs), [_fact(rng, week, 7, 1, 1, 1)])
            found = rollup_reading(session)
            assert found.freshness is Freshness.PARTIAL and found.facts_from == expected
            _same_as_facts(session, split)
            session.rollback()


def _refreshed_from(session: Session, week: date) -> None:
    """The refresh after declared writes from ``week`` on: the sums current, their rows before that
    week kept as they were (not rebuilt), and every row what a whole rebuild gives."""
    old = session.scalar(select(ExperienceRollup.id).where(ExperienceRollup.period_start < week).limit(1))
    refresh_rollup(session)
    session.commit()
    assert rollup_reading(session).freshness is Freshness.CURRENT
    assert session.scalar(select(ExperienceRollup.id).where(ExperienceRollup.id == old)) == old
    partial = _rollup_rows(session)
    refresh_rollup(session, force=True)
    session.commit()
    assert _rollup_rows(session) == partial


@pytest.mark.parametrize("back", [1, 3])
def test_a_declared_write_of_a_past_week_moves_the_split_back_to_it(engine, back):
    """A weekly report's rows are of its one past week, declared so (data_version.week_write): they
    log their week instead of making the sums stale, the pages read the facts from that week on, and
    the refresh rebuilds those weeks alone."""
    rng = random.Random(22 + back)
    split, current = split_week_now(), _this_monday()
    week = current - timedelta(weeks=back)
    with Session(engine) as session:
        _built(session, rng, current)
        _answer(session, rng, week, declared=True)
        found = rollup_reading(session)
        assert found.freshness is Freshness.PARTIAL and found.facts_from == min(week, split)
        _same_as_facts(session, split)
        _same_as_facts(session, week)
        _answer(session, rng, current, declared=True)  # an answer since: the earliest week holds
        assert rollup_reading(session).facts_from == min(week, split)
        _refreshed_from(session, week)
        # Logged before the refresh: a later answer reads from the new split, not the old week.
        _answer(session, rng, current, declared=True)
        assert rollup_reading(session).facts_from == split_week_now()


def test_a_write_declared_for_several_weeks_logs_each_and_reads_from_the_earliest(engine):
    """A history import's rows are of several weeks, declared together (data_version.week_write
    with the weeks listed): each is logged, the pages read the facts from the earliest on and equal
    them, and the refresh rebuilds those weeks alone (the earlier ones' rows kept)."""
    rng = random.Random(2212)
    split, current = split_week_now(), _this_monday()
    weeks = [current - timedelta(weeks=5), current - timedelta(weeks=2)]
    with Session(engine) as session:
        _built(session, rng, current)
        rows = [
            _fact(rng, week, rng.randrange(10**6), rng.randint(1, 6), 2, 1)
            for week in weeks
            for _ in range(3)
        ]
        with current_week_write(session.connection(), "experience_observation", set(weeks), ZONE):
            session.execute(insert(Obs), rows)
        session.commit()
        found = rollup_reading(session)
        assert found.freshness is Freshness.PARTIAL and found.facts_from == weeks[0]
        logged = session.scalars(select(ExperienceWeekLog.period_start)).all()
        assert set(weeks) <= set(logged)
        _same_as_facts(session, split)
        _same_as_facts(session, weeks[0])
        _refreshed_from(session, weeks[0])


def test_a_declaration_of_no_week_is_no_declaration(engine):
    """Rows written under a declaration that names no week are an undeclared write: the sums stale."""
    rng = random.Random(2213)
    current = _this_monday()
    with Session(engine) as session:
        _built(session, rng, current)
        with current_week_write(session.connection(), "experience_observation", set(), ZONE):
            session.execute(insert(Obs), [_fact(rng, current - timedelta(weeks=3), 1, 1, 2, 1)])
        session.commit()
        assert rollup_reading(session).freshness is Freshness.STALE


GROUPINGS = [("region",), ("service",), ("period",), ("region", "service"), (), ("region",)]
EACH_SHAPES = [
    {},
    {"region_ids": frozenset({1, 6})},
    {"service_id": 2},
    {"tier_id": 1},
    {"kinds": ("csat", "nps")},
    {"sources": ("survey",)},
    {"cells": {(2, 1), (3, 4)}},
]


def _each_is_alone(session: Session, split: date) -> None:
    # Every period with every shape; the two paths pairwise (each period, and each shape, meets both).
    for at, (start, end) in enumerate(_periods(split)):
        for shape_at, shape in enumerate(EACH_SHAPES):
            shape = dict(shape)
            kw = {k: shape.pop(k) for k in ("kinds", "sources", "cells") if k in shape}
            filters = AnalysisFilters(start=start, end=end, **shape)
            for use_rollup in ((at + shape_at) % 2 == 0,):
                each = aggregate_each(session, filters, GROUPINGS, use_rollup=use_rollup, **kw)
                alone = [aggregate(session, filters, by=by, use_rollup=use_rollup, **kw) for by in GROUPINGS]
                got = [_fact_rows(t) for t in each]
                assert got == [_fact_rows(t) for t in alone], (start, end, shape, kw)


def test_groupings_read_at_once_are_each_grouping_read_alone(engine):
    """aggregate_each (the overview's three groupings; one statement of the facts on PostgreSQL)
    gives each grouping's aggregate, with the pre-aggregate current, partial from a past week
    (a late callback) and stale, for every filter shape."""
    rng = random.Random(23)
    split, current = split_week_now(), _this_monday()
    with Session(engine) as session:
        _built(session, rng, current)
        _each_is_alone(session, split)
        late = current - timedelta(weeks=2)
        _write(session, late, [_fact(rng, late, rng.randrange(10**6), r, 2, 1) for r in (1, 3, 6)])
        assert rollup_reading(session).facts_from == late
        _each_is_alone(session, split)
        _answer(session, rng, current, declared=False)
        assert rollup_reading(session).freshness is Freshness.STALE
        _each_is_alone(session, split)


def test_the_facts_are_read_once_for_every_grouping_on_postgresql(engine):
    rng = random.Random(24)
    current = _this_monday()
    with Session(engine) as session:
        _seed(session, rng, current)
        seen: list[str] = []

        def watch(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if "experience_observation" in statement:
                seen.append(statement)

        event.listen(engine, "before_cursor_execute", watch)
        try:
            aggregate_each(
                session, AnalysisFilters(start=current - timedelta(weeks=13), end=current), GROUPINGS,
                use_rollup=False,
            )  # fmt: skip
        finally:
            event.remove(engine, "before_cursor_execute", watch)
        postgres = engine.dialect.name == "postgresql"
        assert len(seen) == (1 if postgres else len(GROUPINGS))
        assert ("GROUPING SETS" in seen[0]) is postgres
