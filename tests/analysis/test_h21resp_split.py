"""The experience page's per-respondent table (services.respondents) split at the current week
(issue 19; services.freshness): after an answer of the current week, declared so, the table's rows
before its split are still read, and the respondents with answers from the split on are grouped from
the facts, so that the key drivers' and the reliability's samples, and the whole experience view,
are exactly what the facts give; any other write makes the table stale (the facts are read); the
refresh then rebuilds the rows from the split on (and those of the respondents whose answers span
it) alone, giving the rows a whole rebuild gives.

Respondents of one cell and of several: on both sides of the split (the same cell otherwise, or
another region), over two past weeks, an old rating with an overall answer of the current week, the
current and the next week; answers of the current week for a new respondent and for respondents who
answered before (one cell before the split, or spanning it). On SQLite and PostgreSQL (own database:
the counters move at commits, which the rolled-back fixture never makes).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event, insert, select, text, update
from sqlalchemy.orm import Session

from perception.analysis.models import ExperienceRespondentState, experience_respondent
from perception.analysis.services.experience import computed_experience, driver_matrix
from perception.analysis.services.facts import DIMENSION_CODES, DIMENSION_KINDS
from perception.analysis.services.filters import AnalysisFilters
from perception.analysis.services.freshness import Freshness, split_week_now
from perception.analysis.services.reliability import dimension_matrix
from perception.analysis.services.respondents import refresh_respondents, respondents_reading
from perception.analysis.services.rollup import facts_signature, refresh_rollup
from perception.core.models.facts import ExperienceObservation as Obs
from tests.analysis.test_lead_week_split import _periods, _seed, _this_monday, _write
from tests.facts import analysed_facts, assert_same_figures

CUSTOMERS = ("survey", "callback", "sampling")
FILTERS: list[dict[str, Any]] = [
    {},
    {"region_ids": frozenset({1})},
    {"region_ids": frozenset({1, 6})},
    {"service_id": 2},
    {"tier_id": 1},
    {"region_ids": frozenset({2}), "service_id": 3},
]
LIMITS = (1, 60, 100_000)


def _respondent(
    rng: random.Random,
    sid: int,
    week: date,
    region: int,
    service: int | None,
    tier: int | None,
    *,
    source: str | None = None,
    sure: bool = False,
) -> list[dict]:
    """One respondent's facts in one cell: some dimension ratings (two kinds, two scales), maybe a
    Likert answer naming no dimension, CSAT, NPS, CES and a SERVQUAL pair; ``sure``: at least one
    rating and a CSAT answer."""
    base = {
        "source": source or rng.choice((*CUSTOMERS, "feedback")),
        "source_id": sid,
        "observed_on": week + timedelta(days=rng.randrange(7)),
        "period_start": week,
        "region_id": region,
        "service_id": service,
        "tier_id": tier,
        "customer_id": None,
        "dimension": None,
        "servqual_dimension": None,
        "item": None,
    }

    def fact(kind: str, value: int, lo: int, hi: int, **kw: Any) -> dict:
        return {
            **base,
            "kind": kind,
            "value": float(value),
            "scale_min": float(lo),
            "scale_max": float(hi),
            **kw,
        }

    rows = []
    for dim in rng.sample(DIMENSION_CODES, rng.randint(1 if sure else 0, 4)):
        kind = rng.choice(DIMENSION_KINDS)
        hi = rng.choice((5, 7)) if kind == "rating" else 5
        rows.append(fact(kind, rng.randint(1, hi), 1, hi, dimension=dim))
    if rng.random() < 0.1:
        rows.append(fact("likert", rng.randint(1, 5), 1, 5))
    if sure or rng.random() < 0.7:
        rows.append(fact("csat", rng.randint(1, 5), 1, 5))
    if rng.random() < 0.4:
        rows.append(fact("nps", rng.randint(0, 10), 0, 10))
    if rng.random() < 0.15:
        rows.append(fact("ces", rng.randint(1, 7), 1, 7))
    if rng.random() < 0.1:
        for kind in ("servqual_expectation", "servqual_perception"):
            rows.append(fact(kind, rng.randint(1, 7), 1, 7, servqual_dimension="empathy", item="q1"))
    return rows


def _seed_respondents(session: Session, rng: random.Random, current: date, split: date) -> dict[str, Any]:
    """The lead's provider-shaped facts, then respondents of one cell in every week (and the next)
    and of several; returns some of them, for the answers to name."""
    _seed(session, rng, current)
    rows: list[dict] = []
    sid = 2_000_000
    single_before: list[tuple[int, str, int]] = []
    for back in range(-1, 20):
        week = current - timedelta(weeks=back)
        for region in range(1, 7):
            for _ in range(12 if region == 1 else 2):
                sid += 1
                service = rng.choice([1, 2, 3, 4, None])
                tier = rng.choice([1, 2, None]) if service else None
                source = rng.choice(CUSTOMERS)
                rows += _respondent(rng, sid, week, region, service, tier, source=source, sure=week < split)
                if week == split - timedelta(weeks=2):
                    single_before.append((sid, source, region))
    spans = [
        [(split - timedelta(weeks=1), 1, 2, 1), (current, 1, 2, 1)],  # both sides, one cell otherwise
        [(split - timedelta(weeks=1), 1, 3, None), (current, 2, 3, None)],  # both sides, two regions
        [(split - timedelta(weeks=3), 2, 1, 2), (split - timedelta(weeks=1), 2, 4, None)],  # two past weeks
        [(split - timedelta(weeks=10), 1, 2, 1), (current, 1, 2, 1)],  # an old rating, a recent answer
        [(current, 1, 1, 1), (current + timedelta(weeks=1), 3, 1, 1)],  # the current and the next week
    ]
    spanning: list[tuple[int, str]] = []
    for _ in range(4):
        for cells in spans:
            sid += 1
            source = rng.choice(CUSTOMERS)
            for week, region, service, tier in cells:
                rows += _respondent(rng, sid, week, region, service, tier, source=source, sure=True)
            spanning.append((sid, source))
    session.execute(insert(Obs), rows)
    session.commit()
    analysed_facts(session)
    return {"single_before": single_before, "spanning": spanning, "next": sid + 1}


def _built_respondents(
    session: Session, rng: random.Random, current: date, split: date, refresh: Any
) -> dict[str, Any]:
    """``_seed_respondents``, then ``refresh`` (the whole rollup, or the respondents' table alone),
    committed."""
    seeded = _seed_respondents(session, rng, current, split)
    refresh(session)
    session.commit()
    return seeded


def _answer(
    session: Session, rng: random.Random, week: date, rows: list[dict], *, declared: bool = True
) -> None:
    _write(session, week, rows, declared=declared)


def _answers(session: Session, rng: random.Random, current: date, seeded: dict[str, Any]) -> None:
    """Answers of the current week, declared: a new respondent; respondents of one cell before the
    split answering again (in their region, and in another); respondents spanning it."""
    sid, source, region = seeded["single_before"][0]
    other_sid, other_source, other_region = seeded["single_before"][1]
    span_sid, span_source = seeded["spanning"][0]
    far_sid, far_source = seeded["spanning"][3]
    # A respondent rating a dimension now whose CSAT and NPS answers lie before the split: in the
    # drivers' samples through their earlier answers (the merged answer, not the recent part's).
    late_sid, late_source, late_region = seeded["single_before"][2]
    late = [
        row
        for row in _respondent(rng, late_sid, current, late_region, 1, None, source=late_source, sure=True)
        if row["kind"] not in ("csat", "nps")
    ]
    rows = [
        *late,
        *_respondent(rng, seeded["next"], current, 1, 2, 1, source="survey", sure=True),
        *_respondent(rng, sid, current, region, 2, 1, source=source, sure=True),
        *_respondent(rng, other_sid, current, other_region % 6 + 1, 3, None, source=other_source, sure=True),
        *_respondent(rng, span_sid, current, 1, 2, 1, source=span_source, sure=True),
        *_respondent(rng, far_sid, current, 4, 1, 2, source=far_source, sure=True),
    ]
    _answer(session, rng, current, rows)


def _plain(x: np.ndarray) -> list[tuple]:
    return [tuple(None if np.isnan(v) else float(v) for v in row) for row in x]


def _samples(session: Session, f: AnalysisFilters, limit: int, use_rollup: bool) -> list[Any]:
    out: list[Any] = []
    for kind in ("csat", "nps"):
        x, y, capped = driver_matrix(session, f, limit=limit, overall_kind=kind, use_rollup=use_rollup)
        out.append((_plain(np.column_stack([x, y])), capped))
    out.append(_plain(dimension_matrix(session, f, limit=limit, use_rollup=use_rollup)))
    return out


def _reads(session: Session, call: Any) -> tuple[int, int, list[str]]:
    """How often ``call`` reads the table's rows and the facts' groups (services.respondents, whose
    PostgreSQL reads bypass SQLAlchemy's events), and the statements SQLAlchemy ran."""
    from perception.analysis.services import respondents

    seen: list[str] = []
    counts = {"_table_rows": 0, "_facts_rows": 0}
    bind = session.get_bind()

    def listen(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    def spy(name: str) -> Any:
        original = getattr(respondents, name)

        def counted(*a: Any, **k: Any) -> Any:
            counts[name] += 1
            return original(*a, **k)

        return counted

    with pytest.MonkeyPatch.context() as patch:
        for name in counts:
            patch.setattr(respondents, name, spy(name))
        event.listen(bind, "before_cursor_execute", listen)
        try:
            call()
        finally:
            event.remove(bind, "before_cursor_execute", listen)
    return counts["_table_rows"], counts["_facts_rows"], seen


def _same_samples(
    session: Session, split: date, shapes: list[dict[str, Any]] = FILTERS, limits: tuple[int, ...] = LIMITS
) -> None:
    # Every period with every shape; the limits pairwise (each period, and each shape, meets every
    # limit): the three-way product took a minute of CI per test and found nothing the pairs miss.
    for at, (start, end) in enumerate(_periods(split)):
        for shape_at, shape in enumerate(shapes):
            f = AnalysisFilters(start=start, end=end, **shape)
            limit = limits[(at + shape_at) % len(limits)]
            want = _samples(session, f, limit, False)
            assert _samples(session, f, limit, True) == want, (start, end, shape, limit)


def _same_view(session: Session, split: date) -> None:
    # The 14 weeks, a period ending at the split, the two weeks around it, each with one of two
    # shapes (the samples are compared at every period and shape above; the whole view costs
    # seconds per comparison).
    for at, (start, end) in enumerate(_periods(split)[::2]):
        for shape in (FILTERS[at % 2],):
            f = AnalysisFilters(start=start, end=end, **shape)
            want = computed_experience(session, f, use_rollup=False).to_dict()
            got = computed_experience(session, f, use_rollup=True).to_dict()
            assert_same_figures(got, want, rel=1e-9, path=f"{start}..{end} {shape}")


def _table_rows(session: Session) -> list[tuple]:
    return sorted((tuple(r) for r in session.execute(select(experience_respondent))), key=repr)


def _row_address(session: Session, split: date) -> Any:
    """The physical address of a row before the split (rewritten rows get another)."""
    address = "ctid::text" if session.get_bind().dialect.name == "postgresql" else "rowid"
    return session.execute(
        text(
            f"SELECT {address}, source, source_id FROM experience_respondent "  # noqa: S608
            "WHERE period_start < :split AND cells = 1 ORDER BY source, source_id LIMIT 1"
        ),
        {"split": split},
    ).one()


def test_an_answer_of_the_current_week_keeps_the_respondents_table_and_adds_up(engine):
    rng = random.Random(211)
    split, current = split_week_now(), _this_monday()
    with Session(engine) as session:
        seeded = _built_respondents(session, rng, current, split, refresh_rollup)
        assert respondents_reading(session).freshness is Freshness.CURRENT

        _answers(session, rng, current, seeded)
        found = respondents_reading(session)
        assert found.freshness is Freshness.PARTIAL and found.facts_from == split
        _same_samples(session, split)
        _same_view(session, split)

        # The table is read for the weeks before the split; a period ending at the split reads no
        # fact for its samples.
        f = AnalysisFilters(start=split - timedelta(weeks=13), end=split + timedelta(weeks=1))
        table, facts, _ = _reads(session, lambda: _samples(session, f, 60, True))
        assert table == 3 and facts == 3
        past = AnalysisFilters(start=split - timedelta(weeks=8), end=split)
        table, facts, seen = _reads(session, lambda: _samples(session, past, 60, True))
        assert table == 3 and facts == 0 and not [s for s in seen if "FROM experience_observation" in s]

        # A second answer, then the refresh: the rows from the split on (and those of the respondents
        # spanning it) alone, the rows a whole rebuild gives.
        _answer(session, rng, current, _respondent(rng, seeded["next"] + 1, current, 2, 1, 1, sure=True))
        kept = _row_address(session, split)
        assert refresh_respondents(session) is not None
        session.commit()
        assert respondents_reading(session).freshness is Freshness.CURRENT
        assert _row_address(session, split) == kept  # the past weeks' rows were not rewritten
        partial = _table_rows(session)
        state = session.scalar(select(ExperienceRespondentState))
        assert state is not None and state.rows == len(partial)
        refresh_respondents(session, force=True)
        session.commit()
        assert _table_rows(session) == partial
        _same_samples(session, split, FILTERS[:3], (60,))


@pytest.mark.parametrize("engine", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_the_pages_three_samples_group_the_splits_respondents_once(engine, monkeypatch):
    """PostgreSQL: the CSAT and NPS drivers' samples and the reliability's read the respondents of
    the split's weeks in one pass (services.respondents._recent_respondents), not one each, and
    their rows from the table before the split leave those respondents out without reading the
    facts again: a third of the experience page's database time at a national provider's size on a
    Sunday evening."""
    from perception.analysis.services import respondents

    rng = random.Random(217)
    split, current = split_week_now(), _this_monday()
    with Session(engine) as session:
        seeded = _built_respondents(session, rng, current, split, refresh_rollup)
        _answers(session, rng, current, seeded)
        f = AnalysisFilters(start=split - timedelta(weeks=13), end=split + timedelta(weeks=1))
        want = {limit: _samples(session, f, limit, False) for limit in (60, 100_000)}
        session.commit()

        facts: list[str] = []
        fetch = respondents.fetch_tuples

        def seen(session_: Session, statement: Any, **kw: Any) -> Any:
            if "experience_observation" in str(statement):
                facts.append(str(statement))
            return fetch(session_, statement, **kw)

        monkeypatch.setattr(respondents, "fetch_tuples", seen)
        assert respondents_reading(session).freshness is Freshness.PARTIAL
        for limit in (60, 100_000):  # the split's respondents alone; with the table's rows
            assert _samples(session, f, limit, True) == want[limit]
        assert len(facts) == 1, facts
        assert "GROUP BY experience_observation.source, experience_observation.source_id" in facts[0]


def test_the_partial_refresh_of_spanning_respondents_equals_a_whole_rebuild(engine):
    """Respondents whose cells count changes: one cell before the split answering again in the
    current week (now two), spanning ones answering again; refreshed twice over partial states."""
    rng = random.Random(212)
    split, current = split_week_now(), _this_monday()
    with Session(engine) as session:
        seeded = _built_respondents(session, rng, current, split, refresh_respondents)
        for round_ in range(2):
            sid, source, region = seeded["single_before"][2 + round_]
            span_sid, span_source = seeded["spanning"][1 + round_]
            _answer(
                session,
                rng,
                current,
                [
                    *_respondent(rng, sid, current, region, 2, 1, source=source, sure=True),
                    *_respondent(rng, span_sid, current, 5, 4, None, source=span_source, sure=True),
                ],
            )
            assert respondents_reading(session).freshness is Freshness.PARTIAL
            _same_samples(session, split, FILTERS[:3], (60, 100_000))
            assert refresh_respondents(session) is not None
            session.commit()
            partial = _table_rows(session)
            cells = {(r.source, r.source_id): r.cells for r in session.execute(select(experience_respondent))}
            assert cells[(source, sid)] == 2
            refresh_respondents(session, force=True)
            session.commit()
            assert _table_rows(session) == partial, round_
        _same_samples(session, split, FILTERS[:3], (60, 100_000))


@pytest.mark.parametrize("write", ["undeclared current week", "a past row corrected"])
def test_any_other_write_makes_the_table_stale_and_the_samples_read_the_facts(engine, write):
    rng = random.Random(213)
    split, current = split_week_now(), _this_monday()
    with Session(engine) as session:
        seeded = _built_respondents(session, rng, current, split, refresh_respondents)
        rows = _respondent(rng, seeded["next"], current, 1, 2, 1, sure=True)
        if write == "undeclared current week":
            _answer(session, rng, current, rows, declared=False)
        else:
            past = session.scalar(select(Obs.id).where(Obs.period_start < split, Obs.kind == "csat").limit(1))
            session.execute(update(Obs).where(Obs.id == past).values(value=Obs.scale_min))
            session.commit()
        assert respondents_reading(session).freshness is Freshness.STALE
        f = AnalysisFilters(start=split - timedelta(weeks=13), end=split + timedelta(weeks=1))
        table, facts, _ = _reads(session, lambda: _samples(session, f, 60, True))
        assert table == 0 and facts == 0  # the facts path of driver_matrix and dimension_matrix
        _same_samples(session, split, FILTERS[:2], (60,))
        assert refresh_respondents(session) is not None  # a whole rebuild
        session.commit()
        assert respondents_reading(session).freshness is Freshness.CURRENT
        _same_samples(session, split, FILTERS[:2], (60,))


def test_a_declared_week_in_the_past_moves_the_split_back(engine):
    """A weekly report's rows are of its past week, declared so: the table is read before that week,
    the facts from it on, and the samples equal the facts'; the refresh rebuilds from that week."""
    rng = random.Random(215)
    split, current = split_week_now(), _this_monday()
    week = current - timedelta(weeks=2)
    with Session(engine) as session:
        seeded = _built_respondents(session, rng, current, split, refresh_respondents)
        _answer(session, rng, week, _respondent(rng, seeded["next"], week, 1, 2, 1, sure=True))
        found = respondents_reading(session)
        assert found.freshness is Freshness.PARTIAL and found.facts_from == week
        _same_samples(session, week, FILTERS[:3], (60, 100_000))
        assert refresh_respondents(session) is not None
        session.commit()
        partial = _table_rows(session)
        refresh_respondents(session, force=True)
        session.commit()
        assert _table_rows(session) == partial
        _same_samples(session, split, FILTERS[:2], (60,))


def test_a_signature_of_the_old_format_reads_as_before(engine):
    """A table built before the split existed recorded the facts' signature alone: current while
    the facts are unchanged, stale after any answer (never partial); a refresh then records a stamp."""
    rng = random.Random(214)
    split, current = split_week_now(), _this_monday()
    with Session(engine) as session:
        seeded = _seed_respondents(session, rng, current, split)
        refresh_respondents(session)
        state = session.scalar(select(ExperienceRespondentState))
        assert state is not None
        state.signature = facts_signature(session)
        session.commit()
        assert respondents_reading(session).freshness is Freshness.CURRENT
        _answers(session, rng, current, seeded)
        assert respondents_reading(session).freshness is Freshness.STALE
        _same_samples(session, split, FILTERS[:2], (60,))
        refresh_respondents(session)
        session.commit()
        assert "|from:" in session.scalar(select(ExperienceRespondentState.signature))
        assert respondents_reading(session).freshness is Freshness.CURRENT
