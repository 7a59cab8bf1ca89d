"""The change look's histogram kept week by week (issue 19, services.change_weeks): a look computed
again reads from the facts only the weeks a write may have changed (none after a rename, the weeks
from a declared write's on, every week after an undeclared one, the new week when the window moves
on), and is always the look of the facts read at once: every test, n and estimate, each p-value and
q-value to 1e-12 (the index's sums added in another order), the same flags.

Own databases, SQLite and PostgreSQL (the ``engine`` fixture): the write counters and the week log
move at commits, which the rolled-back fixture never makes. Data shaped like a provider's: a large
region and small ones, answers on 1..5 and 1..7 scales, services and answers without one, weeks
without answers, another voice's reports (not the look's), and a drop in the large region."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from perception.analysis.services import change_weeks, changes
from perception.analysis.services.changes import build_inputs, change_window
from perception.analysis.services.filters import AnalysisFilters
from perception.analysis.services.rollup import refresh_rollup
from perception.core.models.facts import ExperienceObservation as Obs
from perception.core.models.kept import KeptResult
from perception.core.models.org import Region
from perception.kpi.services.data_version import week_write
from perception.setup.models.catalog import Service
from scoring.drift import detect_drops
from tests.facts import analysed_facts

ZONE = "Asia/Shanghai"


def _this_monday() -> date:
    today = datetime.now(ZoneInfo(ZONE)).date()
    return today - timedelta(days=today.weekday())


MONDAY = _this_monday()
#: The window of the look a week ago (ending last Monday) and today's (ending this Monday).
LAST_WEEK, TODAY = MONDAY - timedelta(days=6), MONDAY + timedelta(days=1)
FILTERS = AnalysisFilters(start=MONDAY - timedelta(weeks=20), end=MONDAY + timedelta(weeks=1))


def _answers(rng: random.Random, week: date, region: int, n: int, *, low: bool = False) -> list[dict]:
    """``n`` respondents' answers of one region and week: CSAT, NPS, CES and two dimensions (one on
    1..7), a service or none, surveys and callbacks, and a weekly report's rating besides."""
    shift = 2 if low else 0
    rows = []
    for _ in range(n):
        who = {
            "source_id": rng.randrange(10**9), "observed_on": week + timedelta(days=rng.randrange(7)),
            "period_start": week, "region_id": region, "service_id": rng.choice([1, 2, 3, None]),
            "tier_id": None,
        }  # fmt: skip
        source = rng.choice(["survey", "survey", "callback"])
        asked = [
            ("csat", 1, 5, None, source),
            ("nps", 0, 10, None, source),
            ("likert", 1, 5, "staff_attitude", source),
        ]
        if rng.random() < 0.5:
            asked += [("ces", 1, 7, None, source), ("rating", 1, 7, "response_speed", source)]
        asked.append(("rating", 1, 5, "staff_attitude", "feedback"))
        for kind, lo, hi, dimension, src in asked:
            value = max(lo, min(hi, rng.randint(lo + (hi - lo) // 2, hi) - shift))
            rows.append(
                {
                    **who, "source": src, "kind": kind, "dimension": dimension, "value": float(value),
                    "scale_min": float(lo), "scale_max": float(hi),
                }
            )  # fmt: skip
    return rows


def _seed(engine: Any) -> None:
    rng = random.Random(27)
    with Session(engine) as s:
        s.add_all([Region(id=r, code=f"R{r}", name_zh=f"区{r}", name_en=f"R{r}") for r in range(1, 5)])
        s.add_all([Service(id=v, code=f"S{v}", name_zh=f"服{v}", name_en=f"S{v}") for v in range(1, 4)])
        s.flush()
        rows = []
        for back in range(1, 15):
            week = MONDAY - timedelta(weeks=back)
            if back == 9:
                continue  # a week without answers
            rows += _answers(rng, week, 1, 30, low=back <= 3)  # the large region drops
            for region in (2, 3):
                rows += _answers(rng, week, region, 4)
            if back % 3 == 0:
                rows += _answers(rng, week, 4, 1)
        s.execute(insert(Obs), rows)
        s.commit()
        analysed_facts(s)


def _same(a: Any, b: Any) -> None:
    """Two looks: the same tests, n, estimates and flags; p and q to 1e-12."""
    assert len(a.tests) == len(b.tests) > 20
    for x, y in zip(a.tests, b.tests, strict=True):
        assert (x.unit, x.measure, x.method, x.n_baseline, x.n_recent, x.tested, x.reason, x.flagged) == (
            y.unit, y.measure, y.method, y.n_baseline, y.n_recent, y.tested, y.reason, y.flagged
        )  # fmt: skip
        for u, v in ((x.p_value, y.p_value), (x.q_value, y.q_value), (x.recent_estimate, y.recent_estimate)):
            assert (math.isnan(u) and math.isnan(v)) or u == pytest.approx(v, rel=1e-12, abs=1e-300)


class _Reads:
    """The weeks each look read from the facts (changes._weeks_statement)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.weeks: list[list[date]] = []
        read = changes._weeks_statement

        def counted(session: Session, filters: AnalysisFilters, weeks: list[date]) -> Any:
            self.weeks.append(list(weeks))
            return read(session, filters, weeks)

        monkeypatch.setattr(changes, "_weeks_statement", counted)

    def take(self) -> list[date]:
        taken = sorted(w for some in self.weeks for w in some)
        self.weeks.clear()
        return taken


def _look(engine: Any, today: date = TODAY, filters: AnalysisFilters = FILTERS) -> tuple[Any, Any]:
    """The look as the page computes it, and the look of the facts read at once, committed."""
    with Session(engine) as s:
        window = change_window(filters, today)
        assert window is not None
        view = changes.computed_view(s, filters, window)
        facts = detect_drops(*build_inputs(changes._histogram_columns(s, filters, window)))
        s.commit()
    return view.look, facts


def _checked(
    engine: Any, reads: _Reads, today: date = TODAY, filters: AnalysisFilters = FILTERS
) -> tuple[Any, list[date]]:
    """The look (checked to be the facts' look) and the weeks it read from the facts."""
    look, facts = _look(engine, today, filters)
    _same(look, facts)
    return look, reads.take()


def _late(engine: Any, week: date, region: int, n: int) -> None:
    """``n`` answers of ``week`` written late, declared so (their week logged), committed."""
    with Session(engine) as s:
        with week_write(s.connection(), "experience_observation", week, ZONE):
            s.execute(insert(Obs), _answers(random.Random(n), week, region, n, low=True))
        s.commit()


def _weeks(window_end: date, first: int = 0) -> list[date]:
    start = window_end - timedelta(weeks=12)
    return [start + timedelta(weeks=k) for k in range(first, 12)]


def _stored(engine: Any) -> int:
    with Session(engine) as s:
        return len(s.scalars(select(KeptResult.key).where(KeptResult.page == change_weeks.PAGE)).all())


def test_each_week_is_read_once_then_only_what_a_write_changed(engine, monkeypatch):
    _seed(engine)
    reads = _Reads(monkeypatch)
    look, weeks = _checked(engine, reads)
    assert look.flags and any(t.unit == ("region", 1) for t in look.flags)
    assert weeks == _weeks(MONDAY)
    assert _stored(engine) == 12

    # Another process computing the same look (a rename moved its counter): no week from the facts.
    assert _checked(engine, reads)[1] == []

    # A callback entered for five weeks ago, declared so (logged): that week alone, not the weeks
    # after it, which no write touched.
    five = MONDAY - timedelta(weeks=5)
    _late(engine, five, 2, 40)
    look, weeks = _checked(engine, reads)
    assert weeks == [five]
    assert any(t.unit == ("region", 2) for t in look.tests if t.n_baseline + t.n_recent > 40)
    # Two more, of two weeks (a weekly report of last week, a callback of eight weeks ago): those two.
    _late(engine, MONDAY - timedelta(weeks=1), 1, 9)
    _late(engine, MONDAY - timedelta(weeks=8), 3, 11)
    assert _checked(engine, reads)[1] == [MONDAY - timedelta(weeks=8), MONDAY - timedelta(weeks=1)]
    # Computed again with nothing written since: no week (each was stored as read).
    assert _checked(engine, reads)[1] == []

    # An undeclared write (a history import's): every week.
    with Session(engine) as s:
        s.execute(update(Obs).where(Obs.region_id == 3, Obs.kind == "csat").values(value=1.0))
        s.commit()
    assert _checked(engine, reads)[1] == _weeks(MONDAY)


def test_a_new_week_s_window_reads_its_new_week_alone(engine, monkeypatch):
    _seed(engine)
    reads = _Reads(monkeypatch)
    assert _checked(engine, reads, LAST_WEEK)[1] == _weeks(MONDAY - timedelta(weeks=1))
    assert _checked(engine, reads, TODAY)[1] == [MONDAY - timedelta(weeks=1)]


def test_a_week_whose_log_was_pruned_is_read_again(engine, monkeypatch):
    """The pre-aggregates' refresh prunes the week log up to their own stamps: a week stored before
    a logged write, the log row gone, must not pass for current."""
    from perception.kpi.models import ExperienceWeekLog

    _seed(engine)
    with Session(engine) as s:
        refresh_rollup(s)
        s.commit()
    reads = _Reads(monkeypatch)
    _checked(engine, reads)
    _late(engine, MONDAY - timedelta(weeks=3), 3, 60)
    with Session(engine) as s:
        refresh_rollup(s)  # rebuilds the weeks from three weeks ago and prunes their log rows
        s.commit()
        assert s.scalars(select(ExperienceWeekLog.period_start)).all() == []
    assert _checked(engine, reads)[1] == _weeks(MONDAY)


def test_a_scope_keeps_its_own_weeks_and_a_bad_row_is_read_again(engine, monkeypatch):
    _seed(engine)
    reads = _Reads(monkeypatch)
    _checked(engine, reads)
    region = AnalysisFilters(start=FILTERS.start, end=FILTERS.end, region_ids=frozenset({1}))
    look, weeks = _checked(engine, reads, filters=region)
    units = {t.unit for t in look.tests}
    assert ("region", 1) in units and ("region", 2) not in units
    assert weeks == _weeks(MONDAY)
    assert _stored(engine) == 24
    with Session(engine) as s:
        s.execute(update(KeptResult).where(KeptResult.page == change_weeks.PAGE).values(payload=b"\x00bad"))
        s.commit()
    assert _checked(engine, reads, filters=region)[1] == _weeks(MONDAY)


def test_uncommitted_answers_are_read_from_the_facts_and_nothing_is_stored(engine, monkeypatch):
    _seed(engine)
    with Session(engine) as s:
        s.execute(delete(KeptResult))
        window = change_window(FILTERS, TODAY)
        assert window is not None
        eight = MONDAY - timedelta(weeks=8)
        s.execute(insert(Obs), _answers(random.Random(8), eight, 4, 50, low=True))
        view = changes.computed_view(s, FILTERS, window)
        facts = detect_drops(*build_inputs(changes._histogram_columns(s, FILTERS, window)))
        _same(view.look, facts)
        assert any(t.unit == ("region", 4) and t.n_baseline >= 50 for t in view.look.tests)
        s.rollback()
    assert _stored(engine) == 0


@pytest.mark.parametrize(
    "column",
    [
        [3.0, -1.0, 10.0, 3.0, 0.0],
        [1.5, 2.0, 1.5],
        [],
        [7.0],
        [1e9, 2.0],
        [float("nan"), 1.0],
        [2.0**40, 1.0],
    ],
)
def test_numbering_a_column_is_numpy_s_unique(column):
    values = np.array(column, dtype=float)
    found, codes = change_weeks._numbered(values)
    want, want_codes = np.unique(values, return_inverse=True)
    assert np.array_equal(found, want, equal_nan=True) and found.dtype == want.dtype
    assert np.array_equal(codes, want_codes.reshape(-1))


def test_any_weeks_read_at_once_are_each_week_read_alone(engine):
    """The weeks of a read, in a run (read by their range) or scattered (listed), in any order:
    exactly each week's rows, as each week read alone gives them."""
    _seed(engine)

    def rows(histogram: Any) -> list[tuple[Any, ...]]:
        columns = ("recent", "region", "service", "measure", "lo", "hi", "value", "count")
        return sorted(zip(*(getattr(histogram, c).tolist() for c in columns), strict=True))

    weeks = _weeks(MONDAY)
    with Session(engine) as s:
        alone = {week: rows(changes._weeks_columns(s, FILTERS, [week])) for week in weeks}
        assert all(alone[w] for w in weeks if w != MONDAY - timedelta(weeks=9))  # (the empty week)
        for some in (weeks, weeks[2:7], [weeks[0], weeks[3], weeks[4], weeks[11]], [weeks[5], weeks[1]]):
            assert rows(changes._weeks_columns(s, FILTERS, some)) == sorted(r for w in some for r in alone[w])
