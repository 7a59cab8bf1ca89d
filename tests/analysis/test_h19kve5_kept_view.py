"""Issue 19: the KPI-versus-experience page keeps its view while the write counter of its data
(data_version.KPI_EXPERIENCE) is the same. Kept, it equals the view computed afresh; a repeat does
not compute it again; a write of each of its inputs computes it again with the new figures; every
table the comparison reads is watched by the counter or derived from one that is; the page shows
the same in zh and en, kept or not. And CellIndex.parts, now built for all cells in one pass,
gives what the lookup of every pair gave."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select, update

from perception.analysis.services import kpi_experience
from perception.analysis.services.facts import Acc, CellIndex, aggregate
from perception.analysis.services.filters import parse_filters
from perception.analysis.services.kpi_experience import (
    EXPERIENCE_KINDS,
    kept_kpi_vs_experience,
    kpi_vs_experience,
)
from perception.kpi.services.data_version import KPI_EXPERIENCE, WATCHED, _names
from tests.analysis.conftest import MONDAY
from tests.analysis.kve_reference import cell_parts, content

PERIOD = {"from": "2026-W10", "to": "2026-W13"}
QUERY = "from=2026-W10&to=2026-W13"
#: Tables derived from the watched ones (running sums, pre-aggregates and their bookkeeping): the
#: comparison may read them instead, with the same figures, and they follow the watched tables.
DERIVED = frozenset(
    {
        "analysis_rollup_state",
        "data_version",
        "experience_cumulative",
        "experience_cumulative_state",
        "experience_index_rollup",
        "experience_index_spanning",
        "experience_respondent",
        "experience_respondent_state",
        "experience_rollup",
        "kept_result",
        "kpi_cumulative_state",
        "kpi_value_cumulative",
    }
)


@pytest.fixture(autouse=True)
def _nothing_kept():
    kpi_experience.forget_kept()
    yield
    kpi_experience.forget_kept()


@pytest.fixture
def world(db_session, three_regions, catalog, observe, link_kpi, kpi_value):
    """3 regions x 2 services x 2 KPIs = 12 cells in every quadrant."""
    regions, _ = three_regions
    answers = {
        "R1": [5] * 16 + [2] * 24,  # 40 %: missed, evidenced
        "R2": [5] * 39 + [2],  # 97.5 %: met
        "R3": [5] * 33 + [2] * 7,  # 82.5 %: missed, not evidenced
    }
    kpis = {}
    for service in (catalog["DESK"], catalog["NET"]):
        resp = link_kpi(service, f"RESP_{service.code}", 0.95, "csat_share", 0.85)
        fcr = link_kpi(service, f"FCR_{service.code}", 0.90, "csat_share", 0.85)
        kpis[service.code] = (resp, fcr)
        for week in range(4):
            for code, region in regions.items():
                kpi_value(resp, service, region, 0.97, 0.95, week=week, n=1000)  # met
                kpi_value(fcr, service, region, 0.80, 0.90, week=week, n=1000)  # missed
                observe(region, service, "csat", answers[code], week=week)
    db_session.flush()
    return regions, kpis


def _filters(db_session):
    return parse_filters(db_session, PERIOD, None, today=MONDAY)


def _figures(view) -> dict:
    out = view.to_dict()
    out.pop("filters")
    return out


def _counting(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = kpi_experience.kpi_vs_experience

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(kpi_experience, "kpi_vs_experience", counted)
    return calls


def test_the_kept_view_is_the_computed_one_and_a_repeat_is_not_computed(db_session, world, monkeypatch):
    fresh = kpi_vs_experience(db_session, _filters(db_session), over_time=False)
    calls = _counting(monkeypatch)
    kept = kept_kpi_vs_experience(db_session, _filters(db_session))
    assert _figures(kept) == _figures(fresh) and len(kept.cells) == 12
    assert kept_kpi_vs_experience(db_session, _filters(db_session)) is kept
    assert len(calls) == 1
    # Another period or scope is another view.
    narrow = parse_filters(db_session, {**PERIOD, "region": str(world[0]["R2"].id)}, None, today=MONDAY)
    other = kept_kpi_vs_experience(db_session, narrow)
    assert len(calls) == 2 and {c.region_code for c in other.cells} == {"R2"}


def _write_kpi_value(db_session, world):
    from perception.kpi.models import KpiValue

    resp, _ = world[1]["DESK"]
    db_session.execute(
        update(KpiValue).where(KpiValue.definition_id == resp.id).values(value=0.5)  # RESP now missed
    )


def _write_observation(db_session, world, observe, catalog):
    observe(world[0]["R2"], catalog["DESK"], "csat", [1] * 200, week=1)  # R2 DESK now missed


def _write_experience_target(db_session, world):
    from perception.setup.models.standards import ServiceStandard, StandardVersion

    experience_ids = select(ServiceStandard.id).where(ServiceStandard.category == "experience")
    db_session.execute(
        update(StandardVersion).where(StandardVersion.standard_id.in_(experience_ids)).values(target=0.3)
    )


def _write_region_name(db_session, world):
    from perception.core.models.org import Region

    db_session.execute(update(Region).where(Region.code == "R1").values(name_en="Renamed"))


def _write_kpi_name(db_session, world):
    from perception.kpi.models import KpiDefinition

    db_session.execute(update(KpiDefinition).values(name_en="Renamed KPI"))


@pytest.mark.parametrize(
    "write", ["kpi_value", "observation", "experience_target", "region_name", "kpi_name"]
)
def test_a_write_of_each_input_computes_the_view_again(
    db_session, world, observe, catalog, monkeypatch, write
):
    filters = _filters(db_session)
    before = kept_kpi_vs_experience(db_session, filters)
    calls = _counting(monkeypatch)
    {
        "kpi_value": lambda: _write_kpi_value(db_session, world),
        "observation": lambda: _write_observation(db_session, world, observe, catalog),
        "experience_target": lambda: _write_experience_target(db_session, world),
        "region_name": lambda: _write_region_name(db_session, world),
        "kpi_name": lambda: _write_kpi_name(db_session, world),
    }[write]()
    db_session.flush()
    after = kept_kpi_vs_experience(db_session, filters)
    assert len(calls) == 1
    assert _figures(after) != _figures(before)
    assert _figures(after) == _figures(kpi_vs_experience(db_session, filters, over_time=False))


def test_every_table_the_comparison_reads_is_watched_or_derived(app, db_session, world):
    """A write to any table the view is made from moves its counter: the tables read by every path
    of the comparison (running sums or values, pre-aggregate or facts, weekly rows) are each
    watched by KPI_EXPERIENCE, or derived from watched ones."""
    from perception.core.models.base import Base

    names = sorted(Base.metadata.tables, key=len, reverse=True)
    read: set[str] = set()

    def seen(conn, cursor, statement, params, context, many):
        for table in names:
            if re.search(rf"\b{table}\b", statement):
                read.add(table)

    engine = db_session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for over_time in (False, True):
            for use_rollup in (True, False):
                filters = _filters(db_session)
                kpi_vs_experience(db_session, filters, use_rollup=use_rollup, over_time=over_time)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    inputs = read - DERIVED
    assert {"kpi_value", "experience_observation", "standard_version", "region"} <= inputs
    assert inputs <= WATCHED[KPI_EXPERIENCE], inputs - WATCHED[KPI_EXPERIENCE]
    # Each watched table's writes move the counter (the statement hook's own lookup).
    assert all(KPI_EXPERIENCE in _names(t) for t in WATCHED[KPI_EXPERIENCE])


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_page_kept_shows_what_it_computed(
    db_session, login_as, world, observe, catalog, monkeypatch, lang
):
    calls = _counting(monkeypatch)
    c = login_as("manager")
    headers = {"Accept-Language": lang}
    first = c.get(f"/analysis/kpi-vs-experience?{QUERY}", headers=headers).get_data(as_text=True)
    again = c.get(f"/analysis/kpi-vs-experience?{QUERY}", headers=headers).get_data(as_text=True)
    assert len(calls) == 1
    assert content(again) == content(first)
    assert 'data-testid="watermelon-list"' in first and 'data-testid="cell-table"' in first
    assert "Spearman" in first
    watermelon = "西瓜效应" if lang == "zh-CN" else "Watermelon: KPI met, experience missed"
    assert watermelon in first
    # A write shows at once: R2 DESK's experience now missed (a watermelon row more).
    _write_observation(db_session, world, observe, catalog)
    db_session.flush()
    after = c.get(f"/analysis/kpi-vs-experience?{QUERY}", headers=headers).get_data(as_text=True)
    assert len(calls) == 2
    assert after.count('class="watermelon-row"') == first.count('class="watermelon-row"') + 1


def _reference_parts(table, service: int, region: int) -> dict:
    """The cell's sums per (kind, dimension) from the aggregate's rows, added one by one."""
    out: dict = {}
    for s, r, kind, dimension, stats in zip(
        table.service.tolist(), table.region.tolist(), table.kind.tolist(), table.dimension.tolist(),
        table.stats.tolist(), strict=True,
    ):  # fmt: skip
        if (s, r) == (service, region):
            pair = (str(kind), str(dimension) or None)
            out[pair] = [a + b for a, b in zip(out.get(pair, [0.0] * 8), stats, strict=True)]
    return {
        pair: Acc(int(n), s_, ss, y, yy, int(top2), int(prom), int(detr))
        for pair, (n, s_, ss, y, yy, top2, prom, detr) in sorted(out.items())
    }


def test_a_cells_parts_are_its_rows_sums(db_session, world, observe, catalog):
    """kve_reference.cell_parts (the reference the page's totals are tested against) from the
    aggregate's rows."""
    regions, _ = world
    # More kinds and dimensions, some cells without some of them.
    observe(regions["R1"], catalog["DESK"], "likert", [4, 5, 3] * 11, dimension="response_speed")
    observe(regions["R2"], catalog["NET"], "rating", [2, 5] * 20, dimension="staff_attitude")
    observe(regions["R3"], catalog["NET"], "nps", [10, 9, 3, 7] * 9)
    observe(regions["R3"], catalog["DESK"], "ces", [2, 6, 1], scale=(1, 7))
    db_session.flush()
    table = aggregate(db_session, _filters(db_session), kinds=EXPERIENCE_KINDS, use_rollup=False)
    index = CellIndex(table)
    assert len(index.pairs) >= 4
    for service in [*(s.id for s in catalog.values()), -5]:
        for region in [*(r.id for r in regions.values()), -7]:
            got, want = cell_parts(index, service, region), _reference_parts(table, service, region)
            assert list(got) == list(want)
            for pair, acc in want.items():
                assert vars(got[pair]) == pytest.approx(vars(acc), rel=1e-12), (service, region, pair)
