"""The overview's per-region and per-service rows from two small GROUP BYs (issue 19): per region
from the level summed over services, per service from the level summed over regions and tiers
(level 2, ALL_REGIONS, of the sums and of the index sums), instead of one GROUP BY per region x
service over every region x service x tier cell's weeks. Same figures as the old path (one
region x service aggregate and the index from level 0) to 1e-12, for every filter of the national
fixture (gaps, cells of one answer, respondents spanning cells, tiers, a regional scope); the
level 2 rows are the level 0 rows summed; a rollup built before level 2 existed is still read."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from perception.analysis.services.facts import aggregate
from perception.analysis.services.filters import parse_filters
from tests.analysis.conftest import MONDAY
from tests.analysis.test_h19agg_rollup import FIFTY_FIVE, FILTERS, FOURTEEN, KINDS, _args, national  # noqa: F401
from tests.facts import assert_same_figures


def _old_rows(db_session, f, monkeypatch):
    """The overview's rows as main computed them: one region x service GROUP BY, index from level 0."""
    from perception.analysis.services import rollup as rollup_module
    from perception.analysis.services.names import load_names
    from perception.analysis.services.overview import group_rows
    from perception.analysis.services.perception_index import index_by_groups

    with monkeypatch.context() as patch:
        patch.setattr(rollup_module, "has_all_regions", lambda session: False)
        cells = aggregate(db_session, f, kinds=KINDS, by=("region", "service"))
        everything, by_region, by_service = index_by_groups(db_session, f, ((), ("region",), ("service",)))
        indices = {"all": everything, "region": by_region, "service": by_service}
        return group_rows(cells, load_names(db_session, customers=False), indices)


@pytest.mark.parametrize("period", [FOURTEEN, FIFTY_FIVE], ids=["14w", "55w"])
def test_overview_rows_equal_the_region_x_service_path(db_session, national, period, monkeypatch):  # noqa: F811
    from perception.analysis.services.overview import overview
    from perception.analysis.services.rollup import refresh_rollup
    from scoring.results import to_jsonable

    org, catalog, extra = national
    refresh_rollup(db_session, force=True)
    picked = [*FILTERS, {"region": "R2"}]
    for p in picked:
        f = parse_filters(db_session, _args(org, catalog, extra, p, period), None, today=MONDAY)
        view = overview(db_session, f, today=MONDAY)
        old = _old_rows(db_session, f, monkeypatch)
        new = (view.total, view.regions, view.services)
        assert_same_figures(to_jsonable(new), to_jsonable(old), path=str(p))
        assert view.services and view.total.csat is not None
    # A regional team's scope: only its region, its services' rows from its own cells.
    r2 = org["R2"]["region"].id
    scoped = parse_filters(db_session, dict(period), frozenset({r2}), today=MONDAY)
    view = overview(db_session, scoped, today=MONDAY)
    assert [row.id for row in view.regions] == [r2]
    assert_same_figures(
        to_jsonable((view.total, view.regions, view.services)),
        to_jsonable(_old_rows(db_session, scoped, monkeypatch)),
    )


def test_level_two_is_level_zero_summed_over_regions_and_tiers(db_session, national):  # noqa: F811
    from perception.analysis.models import ExperienceRollup as Roll
    from perception.analysis.models import experience_index_rollup
    from perception.analysis.services.rollup import ALL_REGIONS, BY_SERVICE, has_all_regions, refresh_rollup

    assert not has_all_regions(db_session)
    refresh_rollup(db_session, force=True)
    assert has_all_regions(db_session)
    keys = [
        Roll.period_start,
        Roll.service_id,
        Roll.source,
        Roll.kind,
        Roll.dimension,
        Roll.scale_min,
        Roll.scale_max,
    ]
    stats = [
        func.sum(Roll.n),
        func.sum(Roll.s),
        func.sum(Roll.ss),
        func.sum(Roll.top2),
        func.sum(Roll.promoters),
    ]

    def summed(level):
        rows = db_session.execute(select(*keys, *stats).where(Roll.level == level).group_by(*keys)).all()
        return {tuple(r[: len(keys)]): tuple(r[len(keys) :]) for r in rows}

    two = summed(ALL_REGIONS)
    assert two == summed(BY_SERVICE) and len(two) > 50
    assert set(db_session.scalars(select(Roll.region_id).where(Roll.level == ALL_REGIONS))) == {0}
    c = experience_index_rollup.c
    index_keys = [c.period_start, c.service_id, c.source]

    def index_summed(level):
        rows = db_session.execute(
            select(
                *index_keys, func.sum(c.respondents), func.sum(c.t0), func.sum(c.ss_0_1), func.sum(c.cc_2_2)
            )
            .where(c.level == level)
            .group_by(*index_keys)
        ).all()
        return {tuple(r[:3]): tuple(r[3:]) for r in rows}

    index_two = index_summed(ALL_REGIONS)
    assert index_two.keys() == index_summed(BY_SERVICE).keys() and index_two
    for key, values in index_summed(BY_SERVICE).items():
        assert index_two[key] == pytest.approx(values, rel=1e-12)
