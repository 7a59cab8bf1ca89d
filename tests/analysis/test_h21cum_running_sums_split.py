"""The experience running sums (analysis.services.experience_cumulative) split at the current week
(issue 19; analysis.services.freshness): an answer of the current week, declared so, leaves their
past weeks readable, and a period is the running sums' difference up to the split plus the facts'
sums from it on, exactly what the facts give (series first answered in the current week included);
any other write makes them stale (never read); the refresh then computes the weeks from the split
alone and writes the rows a whole rebuild writes.

The data and answers are test_lead_week_split's (own SQLite file and PostgreSQL database: the
counters move at commits). On ``lead`` the running sums record the facts' signature alone, so any
answer made them unreadable (period_table None) until the next refresh, which computed every week.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from perception.analysis.models import ExperienceCumulative, ExperienceCumulativeState
from perception.analysis.services import experience_cumulative as ec
from perception.analysis.services.facts import aggregate
from perception.analysis.services.filters import AnalysisFilters
from perception.analysis.services.freshness import Freshness, reading, split_week_now
from perception.analysis.services.kpi_experience import EXPERIENCE_KINDS
from perception.analysis.services.rollup import facts_signature, refresh_rollup
from perception.core.models.facts import ExperienceObservation as Obs
from perception.kpi.services.data_version import current_week_write
from tests.analysis.test_lead_week_split import (
    WEEKS,
    ZONE,
    _answer,
    _built,
    _fact,
    _fact_rows,
    _stale_write,
    _this_monday,
)

SCOPES: list[dict[str, Any]] = [
    {},
    {"region_ids": frozenset({1, 6})},
    {"service_id": 2},
    {"tier_id": 1},
    {"service_id": 2, "tier_id": 1, "region_ids": frozenset({1, 3})},
]
KINDS: list[Any] = [None, EXPERIENCE_KINDS, ("csat", "nps")]


_rows = _fact_rows


def _periods(split: date) -> list[tuple[date, date]]:
    return [
        (split - timedelta(weeks=13), split + timedelta(weeks=1)),  # the default 14 weeks
        (split - timedelta(weeks=51), split + timedelta(weeks=1)),  # 52 weeks (before the data)
        (split - timedelta(weeks=WEEKS), split + timedelta(weeks=2)),  # all, the next week's too
        (split - timedelta(weeks=8), split),  # ends at the split: the running sums alone
        (split, split + timedelta(weeks=1)),  # the current week alone: the facts alone
        (split - timedelta(weeks=1), split + timedelta(weeks=1)),
        (split - timedelta(weeks=6) + timedelta(days=2), split + timedelta(days=3)),  # Wednesdays
        (split + timedelta(weeks=2), split + timedelta(weeks=5)),  # after the data
    ]


def _same_as_facts(session: Session, split: date) -> int:
    """period_table equals the facts' aggregate for every period and scope; the rows compared."""
    compared = 0
    # Every period with every scope; the kinds pairwise (each period, and each scope, meets all three).
    for at, (start, end) in enumerate(_periods(split)):
        for scope_at, scope in enumerate(SCOPES):
            for kinds in (KINDS[(at + scope_at) % len(KINDS)],):
                f = AnalysisFilters(start, end, **scope)
                got = ec.period_table(session, f, kinds=kinds)
                assert got is not None, (start, end, scope)
                want = aggregate(session, f, kinds=kinds, by=("region", "service"), use_rollup=False)
                assert _rows(got) == _rows(want), (start, end, scope, kinds)
                compared += len(want)
    return compared


def _new_series_answer(session: Session, rng: random.Random, week: date) -> None:
    """An answer naming a measure no earlier answer had (CES on 1..7) in a cell without it, and a
    tier that cell never had: series absent from the running sums' list."""
    rows = [
        {**_fact(rng, week, 900_001, 6, 4, 2), "kind": "ces", "dimension": None, "value": 6.0,
         "scale_min": 1.0, "scale_max": 7.0},
        {**_fact(rng, week, 900_001, 6, 4, 2), "kind": "ces", "dimension": None, "value": 2.0,
         "scale_min": 1.0, "scale_max": 7.0},
        {**_fact(rng, week, 900_002, 5, 3, 2), "kind": "csat", "dimension": None, "value": 5.0,
         "scale_min": 1.0, "scale_max": 5.0},
    ]  # fmt: skip
    with current_week_write(session.connection(), "experience_observation", week, ZONE):
        session.execute(insert(Obs), rows)
    session.commit()


def _cumulative(session: Session) -> tuple[list[tuple], tuple]:
    c, s = ExperienceCumulative, ExperienceCumulativeState
    stmt = select(c.period_start, c.sums, c.digest).order_by(c.period_start)
    rows = [tuple(r) for r in session.execute(stmt)]
    state = session.execute(select(s.signature, s.series, s.weeks, s.keys, s.measures)).one()
    return [(w, bytes(b), d) for w, b, d in rows], (state[0], state[1], state[2], bytes(state[3]), state[4])


def _freshness(session: Session) -> Freshness:
    state = session.scalar(select(ExperienceCumulativeState))
    return reading(session, state.signature if state is not None else None).freshness


def test_through_the_split_the_running_sums_give_the_facts(engine, monkeypatch):
    rng = random.Random(2101)
    split, current = split_week_now(), _this_monday()
    with Session(engine) as session:
        _built(session, rng, current)
        assert _freshness(session) is Freshness.CURRENT
        _same_as_facts(session, split)

        _answer(session, rng, current, declared=True)
        _new_series_answer(session, rng, current)
        assert _freshness(session) is Freshness.PARTIAL and ec.cumulative_usable(session)
        read: list[AnalysisFilters] = []
        with_facts = ec._with_facts
        monkeypatch.setattr(ec, "_with_facts", lambda s, f, *a: read.append(f) or with_facts(s, f, *a))
        assert _same_as_facts(session, split) > 900
        assert read and all(f.start >= split for f in read)  # the facts of the weeks from the split only
        week = ec.period_table(session, AnalysisFilters(current, current + timedelta(weeks=1)))
        assert week is not None and "ces" in set(week.kind.tolist())  # the new series, read from the facts


@pytest.mark.parametrize("write", ["undeclared current week", "a past row corrected", "a past row withdrawn"])
def test_any_other_write_makes_them_stale_until_rebuilt(engine, write):
    rng = random.Random(2102)
    split, current = split_week_now(), _this_monday()
    with Session(engine) as session:
        _built(session, rng, current)
        _answer(session, rng, current, declared=True)  # partial first: still never read after a stale write
        _stale_write(session, rng, write, split, current)
        assert _freshness(session) is Freshness.STALE and not ec.cumulative_usable(session)
        f = AnalysisFilters(split - timedelta(weeks=13), split + timedelta(weeks=1))
        assert ec.period_table(session, f) is None
        refresh_rollup(session)  # a whole rebuild
        session.commit()
        assert _freshness(session) is Freshness.CURRENT
        _same_as_facts(session, split)


def test_the_refresh_from_the_split_writes_what_a_whole_rebuild_writes(engine, monkeypatch):
    rng = random.Random(2103)
    split, current = split_week_now(), _this_monday()
    with Session(engine) as session:
        _built(session, rng, current)
        before = _cumulative(session)
        _answer(session, rng, current, declared=True)
        _new_series_answer(session, rng, current)
        whole: list[Any] = []
        number = ec._number_series
        monkeypatch.setattr(ec, "_number_series", lambda s: whole.append(1) or number(s))
        assert refresh_rollup(session) is not None  # the rollup's weeks from the split, then these
        session.commit()
        assert whole == []  # the weeks from the split alone: the series were not numbered again
        assert _freshness(session) is Freshness.CURRENT
        partial = _cumulative(session)
        # The past weeks' rows are the same bytes; the new series come after the past ones.
        assert [r for r in partial[0] if r[0] < split] == [r for r in before[0] if r[0] < split]
        assert partial[1][1] == before[1][1] + 2
        _same_as_facts(session, split)

        written = ec.refresh_experience_cumulative(session, force=True, full=True)
        session.commit()
        assert whole == [1] and written == 0  # a whole rebuild finds every row as it is
        assert _cumulative(session) == partial
        session.execute(delete(ExperienceCumulative))
        session.execute(delete(ExperienceCumulativeState))
        session.commit()
        assert ec.refresh_experience_cumulative(session) is not None  # from nothing
        session.commit()
        assert _cumulative(session) == partial

        # Twice partial in a row: the second continues from the rows the first wrote.
        _answer(session, rng, current, declared=True)
        _new_series_answer(session, rng, current)
        assert _freshness(session) is Freshness.PARTIAL
        refresh_rollup(session)
        session.commit()
        again = _cumulative(session)
        ec.refresh_experience_cumulative(session, force=True, full=True)
        session.commit()
        assert _cumulative(session) == again
        _same_as_facts(session, split)


@pytest.mark.parametrize("back", [1, 3])
def test_a_declared_write_of_a_past_week_moves_their_split_back(engine, back, monkeypatch):
    """A weekly report's rows, declared as its past week (data_version.week_write): the running sums
    are read up to that week and the facts from it on (a new series of that week included), and the
    refresh computes the weeks from it alone, writing what a whole rebuild writes."""
    rng = random.Random(2105 + back)
    split, current = split_week_now(), _this_monday()
    week = current - timedelta(weeks=back)
    with Session(engine) as session:
        _built(session, rng, current)
        before = _cumulative(session)
        _answer(session, rng, week, declared=True)
        _new_series_answer(session, rng, week)
        state = ec._current_state(session)
        assert state is not None and state[1].freshness is Freshness.PARTIAL
        assert state[1].facts_from == min(week, split)
        _same_as_facts(session, split)
        _same_as_facts(session, week)
        whole: list[Any] = []
        number = ec._number_series
        monkeypatch.setattr(ec, "_number_series", lambda s: whole.append(1) or number(s))
        refresh_rollup(session)
        session.commit()
        assert whole == [] and _freshness(session) is Freshness.CURRENT
        partial = _cumulative(session)
        assert [r for r in partial[0] if r[0] < week] == [r for r in before[0] if r[0] < week]
        ec.refresh_experience_cumulative(session, force=True, full=True)
        session.commit()
        assert whole == [1] and _cumulative(session) == partial
        _same_as_facts(session, split)


def test_a_signature_of_the_facts_alone_reads_as_before(engine):
    """Running sums built before the split existed recorded the facts' signature alone: current
    while it stands, stale after any write (also an answer of the current week); rebuilt whole."""
    rng = random.Random(2104)
    split, current = split_week_now(), _this_monday()
    with Session(engine) as session:
        _built(session, rng, current)
        session.execute(update(ExperienceCumulativeState).values(signature=facts_signature(session)))
        session.commit()
        assert _freshness(session) is Freshness.CURRENT and ec.cumulative_usable(session)
        _same_as_facts(session, split)
        _answer(session, rng, current, declared=True)
        assert _freshness(session) is Freshness.STALE and not ec.cumulative_usable(session)
        f = AnalysisFilters(split - timedelta(weeks=13), split + timedelta(weeks=1))
        assert ec.period_table(session, f) is None
        refresh_rollup(session)
        session.commit()
        assert _freshness(session) is Freshness.CURRENT
        _same_as_facts(session, split)
