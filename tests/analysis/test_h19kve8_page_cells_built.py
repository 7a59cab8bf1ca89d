"""Issue 19: the KPI-versus-experience page builds a CellView (with its comparison and message)
only for the cells it shows; its order, counts, watermelons and correlations come from the
verdicts' arrays over every cell (scoring.classify_kpi_experience, kpi_experience.CellTable). The
page (zh and en, two periods, pages 1 and 2, quadrant filters), its chart, both CSVs and the API
must read exactly as on the way that built every cell: compare_kpi_experience's report, the
cells sorted by cell_priority, the correlations from every CellComparison."""

from __future__ import annotations

from typing import Any

import pytest

from perception.analysis.services import kpi_experience as ke
from perception.analysis.services.filters import parse_filters
from scoring import compare_kpi_experience, kpi_experience_correlations
from tests.analysis.conftest import MONDAY
from tests.analysis.kve_reference import shown
from tests.analysis.test_h19kve2_cell_sums import national
from tests.analysis.test_h19kve7_page_columns import provider

__all__ = ["national", "provider"]  # the fixtures, imported for pytest


class _Report:
    """ClassifiedCells' arrays, with every result taken from compare_kpi_experience's report."""

    def __init__(self, classified: Any) -> None:
        self._classified = classified
        self._cells = compare_kpi_experience(classified.cells).cells

    def __getattr__(self, name: str) -> Any:
        return getattr(self._classified, name)

    def results(self, positions: Any) -> list[Any]:
        return [self._cells[i] for i in positions]


class _EveryCell(ke.CellTable):
    """The way before: every cell built at once, ordered by sorting the views on cell_priority."""

    def __init__(self, classified: Any, names: Any, tiers: Any) -> None:
        super().__init__(_Report(classified), names, tiers)
        views = list(self)
        self.order = sorted(range(len(views)), key=lambda i: ke.cell_priority(views[i]))


def _every_cell(monkeypatch) -> None:
    monkeypatch.setattr(ke, "CellTable", _EveryCell)
    monkeypatch.setattr(
        ke,
        "correlations_across_regions",
        lambda classified: kpi_experience_correlations(
            compare_kpi_experience(classified.cells).cells, over_time=False
        ),
    )


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_page_shows_what_building_every_cell_shows(db_session, login_as, provider, monkeypatch, lang):
    from perception.core.users import issue_token

    c = login_as("manager")
    _, secret = issue_token(db_session, c.user, "t")
    headers = {"Accept-Language": lang, "Authorization": f"Bearer {secret}"}
    period = "from=2026-W10&to=2026-W19"
    queries = [
        period, "from=2026-W15&to=2026-W15", f"{period}&page=2", f"{period}&quadrant=watermelon",
        f"{period}&quadrant=both_met", f"{period}&quadrant=both_missed&page=2",
        f"{period}&region={provider['R1'].id}",
    ]  # fmt: skip
    paths = [f"/analysis/kpi-vs-experience?{q}" for q in queries] + [
        f"/analysis/chart/quadrant.svg?{period}",
        f"/analysis/export/kpi_vs_experience.csv?{period}",
        f"/analysis/export/watermelons.csv?{period}",
        f"/api/v1/analysis/kpi-vs-experience?{period}",
    ]

    new = shown(c, paths, headers)
    assert 'data-testid="cell-table"' in new[2] and "watermelon-row" in new[3]
    _every_cell(monkeypatch)
    old = shown(c, paths, headers)
    assert old == new


def test_a_page_builds_only_the_cells_it_shows(db_session, login_as, provider, monkeypatch):
    """The page's first load builds the CellViews of the cells it shows, not every cell's."""
    built: list[str] = []
    views = ke.CellTable.views

    def counted(self: ke.CellTable, positions: Any) -> list[ke.CellView]:
        out = views(self, positions)
        built.extend(v.key for v in out)
        return out

    monkeypatch.setattr(ke.CellTable, "views", counted)
    monkeypatch.setattr(ke, "CELL_PAGE_SIZE", 1)
    monkeypatch.setattr(ke, "QUADRANT_LIST_SIZE", 1)
    c = login_as("manager")
    ke.forget_kept()
    assert c.get("/analysis/kpi-vs-experience?from=2026-W10&to=2026-W19").status_code == 200
    seen = set(built)
    filters = parse_filters(db_session, {"from": "2026-W10", "to": "2026-W19"}, None, today=MONDAY)
    view = ke.kpi_vs_experience(db_session, filters, over_time=False)
    # the watermelons (the lead-lag cells and the table's first row among them) and the first
    # cell of each other quadrant (the phone's lists of one)
    melons = {v.key for v in view.watermelons}
    assert melons <= seen and len(seen - melons) <= 3
    assert len(seen) < len(view.cells)
