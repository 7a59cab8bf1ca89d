"""The ways the dashboards read the experience facts give the same figures (issue 19): the coarse
aggregates (per region x service, per period) against the full grain, the index of several
groupings from one query against a hand-made per-respondent reference, and, on PostgreSQL, every
figure of the overview, the experience page and KPI versus experience from the pre-aggregate
against the same from the facts."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from perception.analysis.services.facts import FACT_KEYS, aggregate
from perception.analysis.services.filters import parse_filters
from tests.analysis.conftest import MONDAY
from tests.facts import assert_same_figures

KINDS = ("csat", "nps", "ces", "rating", "likert")


@pytest.fixture
def facts(org, catalog, observe):
    """Four weeks, two regions, two services and a null service, several scales; respondent 900
    rated in both regions (so "everything" sees one respondent where the regions see two)."""
    r1, r2 = org["R1"]["region"], org["R2"]["region"]
    desk, net = catalog["DESK"], catalog["NET"]
    observe(r1, desk, "csat", [5, 4, 2, 1, 5], week=0)
    observe(r1, desk, "csat", [3, 4], week=1)
    observe(r2, net, "csat", [5, 5, 4], week=2)
    observe(r2, desk, "nps", [10, 9, 3, 7, 0], week=1, scale=(0, 10))
    observe(r1, net, "ces", [2, 6, 7], week=3, scale=(1, 7))
    observe(r1, desk, "likert", [4, 5, 3], week=2, dimension="staff_attitude", respondents=[1, 2, 3])
    observe(r1, desk, "likert", [2, 5, 4], week=2, dimension="response_speed", respondents=[1, 2, 3])
    observe(r2, net, "likert", [1, 2], week=0, dimension="response_speed", respondents=[4, 5])
    observe(
        r1, None, "rating", [2, 3, 7], week=3, dimension="fault_handling", scale=(1, 7), respondents=[6, 7, 8]
    )
    observe(r1, desk, "likert", [5], week=1, dimension="training_effect", respondents=[900])
    observe(r2, net, "likert", [2], week=1, dimension="training_effect", respondents=[900])
    observe(r2, net, "likert", [4], week=3, dimension="staff_attitude", respondents=[900])
    return r1, r2, desk, net


def _sums(table, by):
    out = {}
    for group, parts in table.rollup(by).items():
        for pair, acc in parts.items():
            out[(group, pair)] = acc
    return out


@pytest.mark.parametrize(
    ("coarse", "rolled"),
    [
        (("region", "service"), ("region",)),
        (("region", "service"), ("service",)),
        (("region", "service"), ()),
        (("period",), ("period",)),
        (("period",), ()),
        ((), ()),
        (("region",), ("region",)),
    ],
)
def test_coarse_aggregate_equals_the_full_grain(db_session, facts, period_args, coarse, rolled):
    f = parse_filters(db_session, period_args, None, today=MONDAY)
    fine = _sums(aggregate(db_session, f, kinds=KINDS, use_rollup=False), rolled)
    assert set(FACT_KEYS) == {"period", "region", "service"}
    table = aggregate(db_session, f, kinds=KINDS, use_rollup=False, by=coarse)
    assert len(table) < len(aggregate(db_session, f, kinds=KINDS, use_rollup=False)) or coarse == ("period",)
    got = _sums(table, rolled)
    assert got.keys() == fine.keys()
    for key, acc in fine.items():
        other = got[key]
        # Counts and sums of whole ratings are exact; the rescaled sums are computed per row.
        assert (other.n, other.s, other.ss, other.top2, other.promoters, other.detractors) == (
            acc.n, acc.s, acc.ss, acc.top2, acc.promoters, acc.detractors,
        )  # fmt: skip
        assert other.y == pytest.approx(acc.y, rel=1e-12) and other.yy == pytest.approx(acc.yy, rel=1e-12)


def test_aggregate_refuses_an_unknown_key(db_session, facts, period_args):
    f = parse_filters(db_session, period_args, None, today=MONDAY)
    with pytest.raises(ValueError, match="customer"):
        aggregate(db_session, f, by=("customer",))


def _reference(db_session, f, by):
    """Per (group, respondent) sums of the 0..100 ratings per dimension from the raw rows, then
    scoring.perception_index_from_sums per group: the index as issue 14 defined it."""
    from sqlalchemy import select

    from perception.analysis.services.facts import DIMENSION_CODES
    from perception.core.models.facts import ExperienceObservation as Obs
    from scoring.index import perception_index_from_sums

    rows = db_session.execute(
        select(Obs.source, Obs.source_id, Obs.region_id, Obs.service_id, Obs.period_start, Obs.dimension,
               Obs.value, Obs.scale_min, Obs.scale_max)
        .where(Obs.kind.in_(("rating", "likert")), Obs.period_start >= f.start, Obs.period_start < f.end)
    ).all()  # fmt: skip
    per: dict[tuple, list[list[float]]] = defaultdict(lambda: [[0.0] * 6, [0.0] * 6])
    for source, sid, region, service, period, dim, value, lo, hi in rows:
        group = {"region": region, "service": service, "period": period}
        key = tuple(group[b] for b in by)
        d = DIMENSION_CODES.index(dim)
        per[(key, source, sid)][0][d] += 100.0 * (value - lo) / (hi - lo)
        per[(key, source, sid)][1][d] += 1
    labels = sorted({k[0] for k in per}, key=repr)
    keys = list(per)
    sums = np.array([per[k][0] for k in keys])
    counts = np.array([per[k][1] for k in keys])
    codes = np.array([labels.index(k[0]) for k in keys])
    out = {}
    for g in perception_index_from_sums(sums, counts, codes):
        label = labels[g.measure.key[0]]
        out[label if len(by) != 1 else label[0]] = g
    return out


def test_index_of_several_groupings_from_one_query(db_session, facts, period_args):
    from perception.analysis.services.perception_index import index_by, index_by_groups

    f = parse_filters(db_session, period_args, None, today=MONDAY)
    groupings = ((), ("region",), ("service",), ("period",), ("region", "service"))
    found = index_by_groups(db_session, f, groupings)
    for by, got in zip(groupings, found, strict=True):
        want = _reference(db_session, f, by)
        assert index_by(db_session, f, by) == got
        assert got.keys() == want.keys(), by
        for label, index in want.items():
            g = got[label]
            assert g.measure.n == index.measure.n
            assert g.measure.estimate == pytest.approx(index.measure.estimate, rel=1e-12)
            assert g.measure.ci_low == pytest.approx(index.measure.ci_low, rel=1e-12, nan_ok=True)
            assert [p.n_ratings for p in g.parts] == [p.n_ratings for p in index.parts]
    # Respondent 900 rated in both regions: one respondent overall, one in each region.
    everything, by_region = found[0][()], found[1]
    assert everything.measure.n == 8 + 1
    assert sum(i.measure.n for i in by_region.values()) == 10


def test_index_month_grain_and_no_ratings(db_session, facts, period_args):
    from perception.analysis.services.perception_index import index_by

    f = parse_filters(db_session, period_args, None, today=MONDAY)
    months = index_by(db_session, f, ("period",), grain="month")
    assert list(months) == [MONDAY.replace(day=1)]
    assert months[MONDAY.replace(day=1)].measure.n == index_by(db_session, f).get(()).measure.n
    assert index_by(db_session, f, voice="reports") == {}


def test_pre_aggregate_and_facts_give_identical_pages(db_session, facts, period_args, link_kpi, kpi_value):
    """Every figure the three pages compute, from the weekly sums and from the facts."""
    from perception.analysis.services.experience import experience
    from perception.analysis.services.kpi_experience import kpi_vs_experience
    from perception.analysis.services.overview import overview
    from perception.analysis.services.rollup import refresh_rollup, rollup_usable

    r1, r2, desk, net = facts
    d = link_kpi(desk, "RESP", 0.95, "csat_share", 0.85)
    for week in range(4):
        kpi_value(d, desk, r1, 0.97, 0.95, week=week)
        kpi_value(d, desk, r2, 0.93, 0.95, week=week)
    f = parse_filters(db_session, period_args, None, today=MONDAY)
    from_facts = [
        overview(db_session, f, use_rollup=False, today=MONDAY).to_dict(),
        experience(db_session, f, use_rollup=False).to_dict(),
        kpi_vs_experience(db_session, f, use_rollup=False).to_dict(),
    ]
    built = refresh_rollup(db_session, force=True)
    assert built and rollup_usable(db_session)
    from_sums = [
        overview(db_session, f, use_rollup=True, today=MONDAY).to_dict(),
        experience(db_session, f, use_rollup=True).to_dict(),
        kpi_vs_experience(db_session, f, use_rollup=True).to_dict(),
    ]
    assert_same_figures(from_sums, from_facts)
    assert from_facts[0]["total"]["csat"]["n"] == 10
