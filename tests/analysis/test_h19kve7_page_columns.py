"""Issue 19: the KPI-versus-experience page's first computation reads the KPI running sums as
columns (kpi_cumulative.period_columns -> kpi_experience.cumulative_kpi_cells) and sums each
experience target's answers for all cells at once (facts.CellIndex.totals ->
kpi_experience._measured_cells), instead of an object per series, tier, cell and (kind,
dimension). Every figure must be what main's per-object way gives: its KpiCellSums per cell
(from period_sums, and from the weekly values summed by the database, the independent reference)
and experience_input of each cell's parts (tests/analysis/kve_reference.py).

On provider-shaped data (test_h19kve2_cell_sums's: a large, a small and a gappy region, tiers with
their own targets, weeks without tickets) with more: the dimension rated on two question kinds, a
region with KPI values and no answers, a KPI with no experience standard.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from perception.analysis.services import kpi_experience as ke
from perception.analysis.services.facts import CellIndex, aggregate
from perception.analysis.services.filters import AnalysisFilters, parse_filters
from perception.analysis.services.kpi_links import kpi_links, kpi_pairs
from perception.kpi.models import KpiValue
from perception.kpi.services.kpi_cumulative import refresh_cumulative
from tests.analysis.conftest import MONDAY
from tests.analysis.kve_reference import cell_parts, cumulative_cell_sums, shown
from tests.analysis.test_h19kve2_cell_sums import PERIOD, WEEKS, _close, national
from tests.analysis.test_h19kve3_cumulative import _periods, _scopes

__all__ = ["national"]  # the fixture, imported for pytest

END = MONDAY + timedelta(weeks=WEEKS)


@pytest.fixture
def provider(db_session, national, catalog, observe, kpi_value):
    from perception.core.models.org import Region
    from perception.kpi.models import KpiDefinition

    desk, net = catalog["DESK"], catalog["NET"]
    # The dimension also rated on a Likert row in the large region: both kinds are its ratings.
    for week in range(WEEKS):
        observe(national["R1"], net, "likert", [4, 5, 2, 3, 5] * 3, week=week, dimension="response_speed")
    # A region with KPI values and no answer at all: no experience, a dimension not measurable yet.
    r4 = Region(code="R4", name_zh="四川", name_en="Sichuan")
    lone = KpiDefinition(code="LONE", name_zh="孤立指标", name_en="Lone KPI", unit="share")
    db_session.add_all([r4, lone])
    db_session.flush()
    linked = {d for (d,) in db_session.execute(select(KpiValue.definition_id).distinct())}
    for definition in db_session.scalars(select(KpiDefinition).where(KpiDefinition.id.in_(linked))):
        service = desk if definition.code in ("RESP", "FIX") else net
        for week in range(WEEKS):
            kpi_value(definition, service, r4, 0.99, 0.9, week=week, n=50)
    for week in range(WEEKS):  # a KPI without an experience standard
        kpi_value(lone, desk, national["R1"], 0.5, 0.4, week=week)
    db_session.flush()
    assert refresh_cumulative(db_session)
    return {**national, "R4": r4}


def _per_object(monkeypatch) -> None:
    """main's way: a KpiCellSums per cell from an object per series, each cell's experience from
    its parts."""

    def cells(session, filters, definitions):
        sums = cumulative_cell_sums(session, filters, definitions)
        return None if sums is None else ke.KpiCells.from_sums(sums)

    def measured(index, keys, links):
        out = []
        for d, s, r in keys:
            link = links.get((d, s))
            target = None if link is None else link.experience
            out.append(None if target is None else ke.experience_input(cell_parts(index, s, r), target))
        return out

    monkeypatch.setattr(ke, "cumulative_kpi_cells", cells)
    monkeypatch.setattr(ke, "_measured_cells", measured)


def _definitions(session) -> set[int]:
    return set(session.scalars(select(KpiValue.definition_id).distinct()))


def test_kpi_cells_from_the_columns_are_the_cells_sums(db_session, provider):
    definitions = _definitions(db_session)
    pooled = single = 0
    for start, end in _periods().values():
        for scope in _scopes(db_session, provider).values():
            f = AnalysisFilters(start, end, **scope)
            got = ke.cumulative_kpi_cells(db_session, f, definitions)
            sums = cumulative_cell_sums(db_session, f, definitions)
            assert got is not None and sums is not None
            # main's per-object cells from the same running sums: the same floats
            assert got == ke.KpiCells.from_sums(sums)
            # the weekly values summed by the database: the same to 1e-12
            weekly = ke.KpiCells.from_sums(ke.kpi_cell_sums(db_session, f, definitions))
            assert got.keys == weekly.keys
            assert (got.target, got.comparator, got.weeks, got.tickets) == (
                weekly.target, weekly.comparator, weekly.weeks, weekly.tickets,
            )  # fmt: skip
            assert _close(got.value, weekly.value)
            assert got.pooled.keys() == weekly.pooled.keys() and got.tiered == weekly.tiered
            pooled += len(got.pooled)
            single += len(got.keys) - len(got.pooled)
    assert pooled > 20 and single > 100  # both kinds of cell were compared


def test_each_cells_experience_is_what_its_parts_give(db_session, provider):
    for weeks in (1, 4, WEEKS):  # one week: the small regions' dimension is not measurable yet
        f = AnalysisFilters(END - timedelta(weeks=weeks), END)
        pairs = kpi_pairs(db_session, f)
        links = kpi_links(db_session, ((d, s) for d, s, _ in pairs), END - timedelta(days=1))
        keys = sorted(ke.cumulative_kpi_cells(db_session, f, _definitions(db_session)).keys)
        for table in (
            aggregate(db_session, f, kinds=ke.EXPERIENCE_KINDS, use_rollup=False, by=("region", "service")),
            aggregate(db_session, f, kinds=ke.EXPERIENCE_KINDS, use_rollup=False),  # by week too
        ):
            index = CellIndex(table)
            got = ke._measured_cells(index, keys, links)
            bases = set()
            for (d, s, r), mine in zip(keys, got, strict=True):
                link = links.get((d, s))
                if link is None or link.experience is None:
                    assert mine is None
                    continue
                assert mine == ke.experience_input(cell_parts(index, s, r), link.experience), (d, s, r)
                bases.add(mine[1].split(":")[0])
            assert {"overall_csat", "nps", "dimension"} <= bases or "not_measurable_yet" in bases
            assert None in got  # the KPI without an experience standard


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_page_csv_and_api_show_what_the_per_object_way_shows(
    db_session, login_as, provider, monkeypatch, lang
):
    from perception.core.users import issue_token

    c = login_as("manager")
    _, secret = issue_token(db_session, c.user, "t")
    headers = {"Accept-Language": lang, "Authorization": f"Bearer {secret}"}
    queries = ["from=2026-W10&to=2026-W19", "from=2026-W15&to=2026-W15", "from=2026-W10&to=2026-W19&page=2"]
    paths = [f"/analysis/kpi-vs-experience?{q}" for q in queries] + [
        "/analysis/export/kpi_vs_experience.csv?from=2026-W10&to=2026-W19",
        "/analysis/export/watermelons.csv?from=2026-W10&to=2026-W19",
        "/api/v1/analysis/kpi-vs-experience?from=2026-W10&to=2026-W19",
    ]

    new = shown(c, paths, headers)
    filters = parse_filters(db_session, PERIOD, None, today=MONDAY)
    view = ke.kpi_vs_experience(db_session, filters, over_time=False)
    assert len(view.cells) > 10 and view.unmatched and any(c.comparison.kpi_groups for c in view.cells)
    _per_object(monkeypatch)
    assert shown(c, paths, headers) == new
    assert ke.kpi_vs_experience(db_session, filters, over_time=False).to_dict() == view.to_dict()


def test_the_top_watermelons_weeks_read_at_once_are_each_cells_own(db_session, provider):
    """Their lead and lag from one aggregate kept to their cells: what the API's weekly path gives
    from every cell's weeks."""
    filters = parse_filters(db_session, PERIOD, None, today=MONDAY)
    page = ke.kpi_vs_experience(db_session, filters, over_time=False)
    weekly = ke.kpi_vs_experience(db_session, filters, over_time=True)
    assert len(page.lead_lag) >= 2
    assert page.lead_lag == weekly.lead_lag


def test_the_cells_are_ordered_by_their_priority(db_session, provider):
    """The table's order (one lexsort over the verdicts' arrays, no CellView) is
    sorted(cells, key=cell_priority), ties and all; with a ratio that is not a number,
    cell_priority's own sort."""
    from dataclasses import replace

    from perception.analysis.services.names import load_names
    from scoring import classify_kpi_experience

    def table(cells: list, names: list) -> ke.CellTable:
        return ke.CellTable(classify_kpi_experience(cells), names, load_names(db_session, customers=False))

    orders = 0
    for weeks in (1, 4, WEEKS):
        f = AnalysisFilters(END - timedelta(weeks=weeks), END)
        view = ke.kpi_vs_experience(db_session, f, over_time=False)
        # (keys compared: each read builds the views anew, and a NaN field is not equal to itself)
        assert _keys(view.ordered_cells()) == _keys(sorted(view.cells, key=ke.cell_priority))
        orders += len({c.comparison.quadrant for c in view.cells})
        # The same values in another order, with ties on every part but the key.
        cells, names = list(view.cells.classified.cells), list(view.cells._names)
        twins = table(
            cells[::-1] + cells,
            names[::-1] + [replace(n, region=replace(n.region, code=n.region.code + "b")) for n in names],
        )
        assert _keys(twins.views(twins.order)) == _keys(sorted(twins, key=ke.cell_priority))
    assert orders >= 4
    means = [i for i, c in enumerate(cells) if c.experience_mean is not None]
    odd = replace(cells[means[0]], experience_mean=float("nan"))  # its gap is not a number
    nan = table([*cells[: means[0]], odd, *cells[means[0] + 1 :]], names)
    assert any(c.comparison.experience_gap != c.comparison.experience_gap for c in nan)
    assert _keys(nan.views(nan.order)) == _keys(sorted(nan, key=ke.cell_priority))


def _keys(cells: object) -> list[str]:
    return [c.key for c in cells]  # type: ignore[attr-defined]
