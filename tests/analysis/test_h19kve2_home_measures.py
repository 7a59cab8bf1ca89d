"""Issue 19, the manager home's headline at national scale: its CSAT, NPS and index of the last four
weeks read totals (aggregate by nothing: the sums over services) and the index from the
pre-aggregate's sums when they are current, as the overview does, instead of a row per region x
service x week and per respondent; the figures are those of the facts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from perception.analysis import home
from perception.analysis.services import facts as facts_service
from perception.analysis.services.facts import aggregate, csat_measure, nps_measure
from perception.analysis.services.filters import AnalysisFilters
from perception.analysis.services.perception_index import index_by
from tests.analysis.conftest import MONDAY


@pytest.fixture
def answers(db_session, org, catalog, observe):
    r1, r2 = org["R1"]["region"], org["R2"]["region"]
    for week in range(6):
        for region, good in ((r1, True), (r2, False)):
            for service in (catalog["DESK"], catalog["NET"], None):
                base = {"week": week}
                observe(region, service, "csat", [5, 4, 3] if good else [2, 5, 1, 4], **base)
                observe(region, service, "nps", [10, 9, 3] if good else [0, 6, 8], scale=(0, 10), **base)
                observe(
                    region, service, "likert", [4, 5], dimension="response_speed", respondents=[1, 2], **base
                )
                observe(
                    region, service, "rating", [3, 2], dimension="staff_attitude", respondents=[1, 2], **base
                )
    return org


@pytest.mark.parametrize("scoped", [False, True])
def test_headline_measures_read_totals_and_equal_the_facts(db_session, answers, monkeypatch, scoped):
    from perception.analysis.services.rollup import refresh_rollup

    refresh_rollup(db_session, force=True)  # current on PostgreSQL; SQLite reads the facts
    regions = frozenset({answers["R2"]["region"].id}) if scoped else None
    start, end = MONDAY, MONDAY + timedelta(weeks=4)
    asked: list[tuple[str, ...]] = []

    def recording(*args, **kwargs):
        asked.append(kwargs.get("by", facts_service.FACT_KEYS))
        return aggregate(*args, **kwargs)

    monkeypatch.setattr(home, "aggregate", recording)
    got = home._measures(db_session, start, end, regions)
    assert asked == [()]  # totals: one row per kind, whatever the regions, services and weeks

    filters = AnalysisFilters(start=start, end=end, region_ids=regions)
    parts = aggregate(db_session, filters, kinds=home.OVERVIEW_KINDS, use_rollup=False).rollup(()).get((), {})
    index = index_by(db_session, filters, use_rollup=False).get(())
    assert got["csat"] == csat_measure(parts) and got["nps"] == nps_measure(parts)
    assert index is not None and got["index"] is not None
    for field in ("estimate", "ci_low", "ci_high"):
        assert getattr(got["index"], field) == pytest.approx(getattr(index.measure, field), rel=1e-12)
    assert got["index"].n == index.measure.n
