"""The analysis pre-aggregate without the customer (issue 19): every figure of the experience
page (and of the overview and KPI versus experience, which read the same layer) from the weekly
sums equals the same from the facts, per region, service, tier and customer filter, over 14 and
55 weeks with gaps and cells of one answer; a customer filter and a stale rollup read the facts;
the sums no longer keep a row per customer. The newest-respondents matrices (drivers,
reliability) read only the last weeks' respondents and give what grouping every respondent gave."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import and_, case, func, select, update

from perception.analysis.services.facts import DIMENSION_CODES, aggregate
from perception.analysis.services.filters import parse_filters
from tests.analysis.conftest import MONDAY
from tests.facts import assert_same_figures

FOURTEEN = {"from": "2026-W10", "to": "2026-W23"}
FIFTY_FIVE = {"from": "2025-W22", "to": "2026-W23"}
KINDS = ("csat", "nps", "ces", "rating", "likert")


@pytest.fixture
def national(db_session, org, catalog, observe):
    """Random answers over 30 of 66 weeks (gaps), two regions, two services and none, three
    customers (two in R1), the GOLD tier on some, surveys, callbacks and weekly-report ratings;
    many cells hold one answer. Respondents rate several dimensions in one week."""
    from perception.core.models.facts import ExperienceObservation as Obs
    from perception.core.models.org import CustomerOrg

    r1, r2 = org["R1"]["region"], org["R2"]["region"]
    extra = CustomerOrg(code="R1-D", name_zh="北京客户二", name_en="Beijing customer 2", region_id=r1.id)
    db_session.add(extra)
    db_session.flush()
    customers = [(r1, org["R1"]["customer"]), (r1, extra), (r2, org["R2"]["customer"])]
    services = [catalog["DESK"], catalog["NET"], None]
    rng = np.random.default_rng(19)
    weeks = sorted(rng.choice(np.arange(-52, 14), 30, replace=False).tolist())
    respondent = 1000
    for week in weeks:
        for _ in range(int(rng.integers(1, 9))):
            region, customer = customers[int(rng.integers(0, 3))]
            service = services[int(rng.integers(0, 3))]
            source = ("survey", "callback", "feedback")[int(rng.integers(0, 3))]
            respondent += 1
            base = {"week": int(week), "customer": customer, "source": source, "respondents": [respondent]}
            observe(region, service, "csat", [int(rng.integers(1, 6))], **base)
            if rng.random() < 0.5:
                observe(region, service, "nps", [int(rng.integers(0, 11))], scale=(0, 10), **base)
            if rng.random() < 0.3:
                observe(region, service, "ces", [int(rng.integers(1, 8))], scale=(1, 7), **base)
            for dim in rng.choice(DIMENSION_CODES, int(rng.integers(0, 5)), replace=False):
                kind = "likert" if rng.random() < 0.7 else "rating"
                scale = (1, 5) if kind == "likert" else (1, 7)
                value = int(rng.integers(scale[0], scale[1] + 1))
                observe(region, service, kind, [value], dimension=str(dim), scale=scale, **base)
    for respondent_id, (p, e) in enumerate([(4, 5), (3, 3), (5, 2)], start=500):
        for kind, value in (("servqual_perception", p), ("servqual_expectation", e)):
            observe(r2, catalog["NET"], kind, [value], week=3, respondents=[respondent_id])
    db_session.execute(
        update(Obs).where(Obs.kind.like("servqual%")).values(servqual_dimension="reliability", item="q1")
    )
    # Respondents whose ratings span cells: two regions, two weeks, two services.
    desk, net = catalog["DESK"], catalog["NET"]
    observe(r1, desk, "likert", [5], week=1, dimension="training_effect", respondents=[900])
    observe(r2, net, "likert", [2], week=1, dimension="training_effect", respondents=[900])
    observe(r2, net, "likert", [4], week=3, dimension="staff_attitude", respondents=[900])
    observe(r1, desk, "likert", [3], week=4, dimension="staff_attitude", respondents=[901], source="feedback")
    observe(r1, net, "rating", [6], week=4, dimension="fault_handling", respondents=[901], source="feedback",
            scale=(1, 7))  # fmt: skip
    gold = catalog["GOLD"]
    db_session.execute(update(Obs).where(Obs.source_id % 3 == 0).values(tier_id=gold.id))
    db_session.flush()
    return org, catalog, extra


FILTERS = [
    {},
    {"region": "R1"},
    {"service": "DESK"},
    {"tier": "GOLD"},
    {"customer": "R1-C"},
    {"region": "R2", "service": "NET"},
]


def _args(org, catalog, extra, picked, period):
    args = dict(period)
    ids = {
        "R1": org["R1"]["region"].id,
        "R2": org["R2"]["region"].id,
        "DESK": catalog["DESK"].id,
        "NET": catalog["NET"].id,
        "GOLD": catalog["GOLD"].id,
        "R1-C": org["R1"]["customer"].id,
    }
    for name, code in picked.items():
        args[name] = str(ids[code])
    return args


def _pages(db_session, f, use_rollup):
    from perception.analysis.services.experience import experience
    from perception.analysis.services.kpi_experience import kpi_vs_experience
    from perception.analysis.services.overview import overview

    return [
        experience(db_session, f, use_rollup=use_rollup).to_dict(),
        overview(db_session, f, use_rollup=use_rollup, today=MONDAY).to_dict(),
        kpi_vs_experience(db_session, f, use_rollup=use_rollup).to_dict(),
    ]


def _tables(db_session, f, use_rollup):
    out = []
    for by in ((), ("region",), ("period",), ("region", "service"), ("period", "region", "service")):
        for sources in (None, ("survey", "callback"), ("feedback",)):
            table = aggregate(db_session, f, kinds=KINDS, use_rollup=use_rollup, by=by, sources=sources)
            out.append(
                {(g, pair): vars(acc) for g, parts in table.rollup(by).items() for pair, acc in parts.items()}
            )
    return out


@pytest.mark.parametrize("period", [FOURTEEN, FIFTY_FIVE], ids=["14w", "55w"])
def test_pre_aggregate_gives_the_figures_of_the_facts(db_session, national, period):
    from perception.analysis.services.rollup import refresh_rollup, rollup_usable

    org, catalog, extra = national
    filters = [
        parse_filters(db_session, _args(org, catalog, extra, p, period), None, today=MONDAY) for p in FILTERS
    ]
    from_facts = [(_pages(db_session, f, False), _tables(db_session, f, False)) for f in filters]
    assert from_facts[0][0][0]["dimensions"][0]["measure"] is not None
    assert from_facts[0][0][0]["servqual"] and not from_facts[1][0][0]["servqual"]  # none in R1
    assert refresh_rollup(db_session, force=True)
    assert rollup_usable(db_session)
    for f, (pages, tables) in zip(filters, from_facts, strict=True):
        assert_same_figures(_pages(db_session, f, True), pages, path=str(f))
        got = _tables(db_session, f, True)
        for one, other in zip(got, tables, strict=True):
            assert one.keys() == other.keys()
            for key, acc in other.items():
                mine = one[key]
                for name in ("n", "s", "ss", "top2", "promoters", "detractors"):
                    assert mine[name] == acc[name], (key, name)
                assert mine["y"] == pytest.approx(acc["y"], rel=1e-12)
                assert mine["yy"] == pytest.approx(acc["yy"], rel=1e-12)


def test_sources_keep_one_voice(db_session, national):
    """``sources`` keeps those sources' answers: the voices add up to everything."""
    f = parse_filters(db_session, FIFTY_FIVE, None, today=MONDAY)
    whole = aggregate(db_session, f, kinds=("csat",), by=()).rollup()[()][("csat", None)]
    parts = [
        aggregate(db_session, f, kinds=("csat",), by=(), sources=s).rollup()[()][("csat", None)]
        for s in (("survey", "callback"), ("feedback",))
    ]
    assert whole.n == parts[0].n + parts[1].n and whole.s == parts[0].s + parts[1].s
    assert 0 < parts[1].n < whole.n


def test_rollup_keeps_no_row_per_customer(db_session, national):
    """Two customers' answers in the same region, service, tier, source, week and kind are one
    row of the sums (they were one row per customer), and the customer filter reads the facts."""
    from perception.analysis.models import ExperienceRollup as Roll
    from perception.analysis.services.rollup import BY_SERVICE, refresh_rollup
    from perception.core.models.facts import ExperienceObservation as Obs

    refresh_rollup(db_session, force=True)
    keys = (Obs.period_start, Obs.region_id, Obs.service_id, Obs.tier_id, Obs.source, Obs.kind, Obs.dimension,
            Obs.scale_min, Obs.scale_max)  # fmt: skip
    cells = select(*keys).group_by(*keys).subquery()
    with_customer = select(*keys, Obs.customer_id).group_by(*keys, Obs.customer_id).subquery()
    n_cells = db_session.scalar(select(func.count()).select_from(cells))
    assert db_session.scalar(select(func.count()).select_from(with_customer)) > n_cells
    assert db_session.scalar(select(func.count()).where(Roll.level == BY_SERVICE)) == n_cells


def test_stale_rollup_reads_the_facts(db_session, national, observe):
    """Facts written after the refresh: the pages read them (a stale rollup is never read)."""
    from perception.analysis.models import AnalysisRollupState
    from perception.analysis.services.experience import experience
    from perception.analysis.services.rollup import refresh_rollup, rollup_usable

    org, catalog, _ = national
    f = parse_filters(db_session, FOURTEEN, None, today=MONDAY)
    refresh_rollup(db_session, force=True)
    before = experience(db_session, f).to_dict()
    observe(org["R1"]["region"], catalog["DESK"], "likert", [1] * 7, dimension="staff_attitude",
            respondents=range(90_000, 90_007))  # fmt: skip
    db_session.scalar(select(AnalysisRollupState)).signature = "stale"  # as the counters would say
    db_session.flush()
    assert not rollup_usable(db_session)
    after = experience(db_session, f).to_dict()
    assert after == experience(db_session, f, use_rollup=False).to_dict()
    staff = DIMENSION_CODES.index("staff_attitude")
    assert after["dimensions"][staff]["measure"]["n"] == before["dimensions"][staff]["measure"]["n"] + 7


def _old_driver_matrix(db_session, f, limit, overall_kind):
    """The query every respondent of the period went through before (the reference)."""
    from perception.analysis.services.experience import DIMENSION_KINDS, voice_sources
    from perception.analysis.services.filters import where_facts
    from perception.core.models.facts import ExperienceObservation as Obs

    columns = [
        func.max(case((and_(Obs.kind.in_(DIMENSION_KINDS), Obs.dimension == d), Obs.value)))
        for d in DIMENSION_CODES
    ]
    overall = func.max(case((Obs.kind == overall_kind, Obs.value)))
    rows = db_session.execute(
        select(*columns, overall)
        .where(
            *where_facts(Obs, f),
            Obs.kind.in_((*DIMENSION_KINDS, overall_kind)),
            Obs.source.in_(voice_sources("customers")),
        )  # fmt: skip
        .group_by(Obs.source, Obs.source_id)
        .having(overall.is_not(None))
        .order_by(func.max(Obs.period_start).desc(), Obs.source, Obs.source_id)
        .limit(limit + 1)
    ).all()
    return [tuple(r) for r in rows[:limit]], len(rows) > limit


@pytest.mark.parametrize("limit", [1, 3, 10, 40, 500])
def test_newest_respondents_as_grouping_everyone(db_session, national, observe, limit):
    """Whatever the sample size, the matrices equal the old query's; a respondent whose answers
    span weeks (an old rating, a recent overall answer) keeps the old rating."""
    from perception.analysis.services.experience import driver_matrix
    from perception.analysis.services.reliability import dimension_matrix
    from perception.core.models.facts import ExperienceObservation as Obs

    org, catalog, _ = national
    r1, desk = org["R1"]["region"], catalog["DESK"]
    observe(r1, desk, "likert", [2], week=2, dimension="fault_handling", respondents=[77_777])
    observe(r1, desk, "csat", [4], week=13, respondents=[77_777])
    for period in (FOURTEEN, FIFTY_FIVE):
        f = parse_filters(db_session, period, None, today=MONDAY)
        for kind in ("csat", "nps"):
            x, y, capped = driver_matrix(db_session, f, limit=limit, overall_kind=kind)
            want, want_capped = _old_driver_matrix(db_session, f, limit, kind)
            got = [
                tuple(None if np.isnan(v) else v for v in (*row, yv)) for row, yv in zip(x, y, strict=True)
            ]
            assert got == want and capped == want_capped
        where = [Obs.period_start >= f.start, Obs.period_start < f.end, Obs.kind.in_(("rating", "likert")),
                 Obs.dimension.is_not(None)]  # fmt: skip
        columns = [func.max(case((Obs.dimension == d, Obs.value))) for d in DIMENSION_CODES]
        want_rel = db_session.execute(
            select(*columns).where(*where).group_by(Obs.source, Obs.source_id)
            .order_by(func.max(Obs.period_start).desc(), Obs.source, Obs.source_id).limit(limit)
        ).all()  # fmt: skip
        got_rel = dimension_matrix(db_session, f, limit=limit)
        assert [tuple(None if np.isnan(v) else v for v in row) for row in got_rel] == [
            tuple(r) for r in want_rel
        ]
    full = driver_matrix(db_session, parse_filters(db_session, FOURTEEN, None, today=MONDAY), limit=10_000)
    spanning = [row for row, yv in zip(*full[:2], strict=True) if row[1] == 2 and yv == 4]
    assert spanning, "the respondent's week-2 rating is in their row"
    assert MONDAY + timedelta(weeks=13) < parse_filters(db_session, FOURTEEN, None, today=MONDAY).end


GROUPINGS = ((), ("region",), ("service",), ("period",), ("region", "service"), ("region", "period"))


def _same_index(got, want):
    assert got.keys() == want.keys()
    for label, index in want.items():
        mine = got[label]
        assert mine.measure.key == index.measure.key and mine.measure.n == index.measure.n
        assert mine.measure.low_sample == index.measure.low_sample and mine.thin == index.thin
        for name in ("estimate", "ci_low", "ci_high"):
            assert getattr(mine.measure, name) == pytest.approx(
                getattr(index.measure, name), rel=1e-9, nan_ok=True
            )
        assert [(p.code, p.n_ratings) for p in mine.parts] == [(p.code, p.n_ratings) for p in index.parts]
        for a, b in zip(mine.parts, index.parts, strict=True):
            assert a.mean == pytest.approx(b.mean, rel=1e-12) and a.weight == pytest.approx(
                b.weight, rel=1e-12
            )


@pytest.mark.parametrize("period", [FOURTEEN, FIFTY_FIVE], ids=["14w", "55w"])
def test_index_from_the_sums_equals_the_index_from_respondents(db_session, national, period):
    """The index and its interval from the cells' sums and products (and the respondents who
    span cells) equal scoring.perception_index_from_sums over the respondents' rows, for every
    grouping, grain, voice and filter; weights too."""
    from perception.analysis.services.perception_index import index_by_groups
    from perception.analysis.services.rollup import refresh_rollup

    org, catalog, extra = national
    filters = [
        parse_filters(db_session, _args(org, catalog, extra, p, period), None, today=MONDAY) for p in FILTERS
    ]
    cases = [
        (f, voice, grain, weights)
        for f in filters
        for voice in ("customers", "reports")
        for grain in ("week", "month")
        for weights in (None, {"response_speed": 2.0, "staff_attitude": 0.5})
    ]
    want = [
        index_by_groups(db_session, f, GROUPINGS, voice=v, grain=g, weights=w, use_rollup=True)
        for f, v, g, w in cases
    ]  # not refreshed yet: the facts
    refresh_rollup(db_session, force=True)
    assert sum(len(x) for groups in want for x in groups) > 100
    for (f, v, g, w), expected in zip(cases, want, strict=True):
        got = index_by_groups(db_session, f, GROUPINGS, voice=v, grain=g, weights=w, use_rollup=True)
        for one, other in zip(got, expected, strict=True):
            _same_index(one, other)


def test_index_from_moments_by_hand():
    """Two respondents, two dimensions with data: the moments give the hand-computed interval of
    scoring.perception_index_from_sums."""
    from perception.analysis.services.perception_index import index_from_moments
    from scoring.index import perception_index_from_sums

    s = np.array([[50.0, 75.0, 0, 0, 0, 0], [100.0, 0, 0, 0, 0, 0], [25.0, 150.0, 0, 0, 0, 0]])
    c = np.array([[1.0, 1, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0], [1, 2, 0, 0, 0, 0]])
    want = perception_index_from_sums(s, c)[0]
    products = [np.einsum("rd,re->de", a, b)[None] for a, b in ((s, s), (s, c), (c, c))]
    got = index_from_moments([()], np.array([3.0]), c.sum(0)[None], s.sum(0)[None], *products)[()]
    # By hand: m = (175/3, 225/3), w' = 1/2 each, u_r = sum_d w'_d (S_rd - m_d C_rd) / N_d.
    m1, m2 = 175 / 3, 225 / 3
    u = [
        0.5 * (50 - m1) / 3 + 0.5 * (75 - m2) / 3,
        0.5 * (100 - m1) / 3,
        0.5 * (25 - m1) / 3 + 0.5 * (150 - 2 * m2) / 3,
    ]
    se = np.sqrt(3 / 2 * sum(x * x for x in u))
    assert got.measure.estimate == pytest.approx(0.5 * m1 + 0.5 * m2, rel=1e-12)
    # t(0.975, 2) = 4.302652729911275; the upper end is clipped at 100.
    assert got.measure.estimate - got.measure.ci_low == pytest.approx(4.302652729911275 * se, rel=1e-9)
    assert got.measure.ci_high == 100.0
    assert got.measure.ci_low == pytest.approx(want.measure.ci_low, rel=1e-12)
    assert got.measure.ci_high == pytest.approx(want.measure.ci_high, rel=1e-12)
