"""Issue 19: the KPI versus experience page shows its cell table a page at a time (a national
provider compares ~5,000 cells), watermelons and missed experience first; the headline, the
quadrant counts, the CSV export and the API keep every cell; page links keep the filters; a bad
page number never gives a 500; the phone's quadrant list and the chart stay bounded."""

from __future__ import annotations

import re

import pytest

from perception.analysis.services import kpi_experience
from perception.analysis.services.filters import parse_filters
from perception.analysis.services.kpi_experience import cell_page, cell_priority, kpi_vs_experience
from tests.analysis.conftest import MONDAY

PERIOD = "from=2026-W10&to=2026-W13"
CELL = re.compile(r'data-cell="([^"]+)"')


@pytest.fixture
def world(db_session, three_regions, catalog, observe, link_kpi, kpi_value):
    """3 regions x 2 services x 2 KPIs = 12 cells in every quadrant."""
    regions, _ = three_regions
    answers = {  # top-2 share of 40 answers a week against the 85 % target
        "R1": [5] * 16 + [2] * 24,  # 40 %: missed, evidenced
        "R2": [5] * 39 + [2],  # 97.5 %: met
        "R3": [5] * 33 + [2] * 7,  # 82.5 %: missed, not evidenced
    }
    for service in (catalog["DESK"], catalog["NET"]):
        resp = link_kpi(service, f"RESP_{service.code}", 0.95, "csat_share", 0.85)
        fcr = link_kpi(service, f"FCR_{service.code}", 0.90, "csat_share", 0.85)
        for week in range(4):
            for code, region in regions.items():
                kpi_value(resp, service, region, 0.97, 0.95, week=week, n=1000)  # met
                kpi_value(fcr, service, region, 0.80, 0.90, week=week, n=1000)  # missed
                observe(region, service, "csat", answers[code], week=week)
    return regions


def _keys(html: str) -> list[str]:
    return CELL.findall(html)


def test_the_table_pages_in_the_managers_order(db_session, login_as, world, monkeypatch):
    monkeypatch.setattr(kpi_experience, "CELL_PAGE_SIZE", 5)
    view = kpi_vs_experience(
        db_session, parse_filters(db_session, {"from": "2026-W10", "to": "2026-W13"}, None, today=MONDAY)
    )
    assert len(view.cells) == 12
    ordered = [c.key for c in sorted(view.cells, key=cell_priority)]
    c = login_as("manager")
    pages = [
        c.get(f"/analysis/kpi-vs-experience?{PERIOD}&page={n}").get_data(as_text=True) for n in (1, 2, 3)
    ]
    assert [_keys(p) for p in pages] == [ordered[:5], ordered[5:10], ordered[10:]]
    # Watermelons first (evidenced R1 first), then experience missed, then both met.
    quadrants = {c.key: c.comparison.quadrant for c in view.cells}
    assert [quadrants[k] for k in ordered[:4]] == ["watermelon"] * 4
    assert ordered[0].endswith("|R1") and view.cell(ordered[0]).comparison.watermelon_rank == 1
    assert [quadrants[k] for k in ordered[4:8]] == ["both_missed"] * 4
    assert {quadrants[k] for k in ordered[8:]} == {"kpi_missed_experience_met", "both_met"}
    # The headline and counts cover every cell, on every page.
    assert 'data-testid="watermelon-headline"' in pages[1] and "12" in pages[1]
    assert "Cells 6–10 of 12" in pages[1]


def test_page_links_keep_the_filters_and_the_quadrant(login_as, world, monkeypatch):
    monkeypatch.setattr(kpi_experience, "CELL_PAGE_SIZE", 2)
    c = login_as("manager")
    html = c.get(f"/analysis/kpi-vs-experience?{PERIOD}&quadrant=both_missed").get_data(as_text=True)
    keys = _keys(html)
    assert len(keys) == 2
    nxt = re.search(r'<a href="([^"]+)">Next', html)
    assert nxt is not None
    link = nxt.group(1).replace("&amp;", "&")
    assert "page=2" in link and "quadrant=both_missed" in link
    assert "from=2026-03-02" in link and "to=2026-03-29" in link and link.endswith("#cells")
    second = _keys(c.get(link).get_data(as_text=True))
    assert len(second) == 2 and not set(second) & set(keys)
    assert all(k.split("|")[2] in ("R1", "R3") for k in keys + second)  # both_missed: R1, R3 only


def test_bad_page_numbers_never_fail(login_as, world, monkeypatch):
    monkeypatch.setattr(kpi_experience, "CELL_PAGE_SIZE", 5)
    c = login_as("manager")
    first = _keys(c.get(f"/analysis/kpi-vs-experience?{PERIOD}").get_data(as_text=True))
    last = _keys(c.get(f"/analysis/kpi-vs-experience?{PERIOD}&page=3").get_data(as_text=True))
    for bad, expected in (("abc", first), ("-4", first), ("0", first), ("", first), ("99999", last),
                          ("1e9", first), ("2.5", first)):  # fmt: skip
        response = c.get(f"/analysis/kpi-vs-experience?{PERIOD}&page={bad}&quadrant=nonsense")
        assert response.status_code == 200, bad
        assert _keys(response.get_data(as_text=True)) == expected, bad


def test_chinese_page_controls(login_as, world, monkeypatch):
    monkeypatch.setattr(kpi_experience, "CELL_PAGE_SIZE", 5)
    c = login_as("manager")
    html = c.get(f"/analysis/kpi-vs-experience?{PERIOD}&page=2", headers={"Accept-Language": "zh-CN"})
    text = html.get_data(as_text=True)
    assert "第 6–10 个单元，共 12 个" in text and "全部象限" in text


def test_paging_keeps_the_region_scope(login_as, world, monkeypatch):
    monkeypatch.setattr(kpi_experience, "CELL_PAGE_SIZE", 1)
    c = login_as("collector", region="R2")
    keys = [
        k
        for n in range(1, 6)
        for k in _keys(c.get(f"/analysis/kpi-vs-experience?{PERIOD}&page={n}").get_data(as_text=True))
    ]
    assert keys and all(k.endswith("|R2") for k in keys)


def test_export_and_api_keep_every_cell(db_session, login_as, world, monkeypatch, make_user):
    from perception.core.users import issue_token

    monkeypatch.setattr(kpi_experience, "CELL_PAGE_SIZE", 5)
    c = login_as("manager")
    csv = c.get(f"/analysis/export/kpi_vs_experience.csv?{PERIOD}")
    assert csv.status_code == 200
    assert len(csv.get_data(as_text=True).strip().splitlines()) == 1 + 12
    _, secret = issue_token(db_session, c.user, "t")
    body = c.get(
        f"/api/v1/analysis/kpi-vs-experience?{PERIOD}", headers={"Authorization": f"Bearer {secret}"}
    )
    assert len(body.get_json()["cells"]) == 12


def test_phone_list_is_bounded(db_session, login_as, world, monkeypatch):
    monkeypatch.setattr(kpi_experience, "QUADRANT_LIST_SIZE", 1)
    c = login_as("manager")
    html = c.get(f"/analysis/kpi-vs-experience?{PERIOD}").get_data(as_text=True)
    section = html.split('data-testid="quadrant-list"')[1].split("</section>")[0]
    assert section.count("<li>") == 4  # one per quadrant
    assert "quadrant=watermelon" in section and "All 4 in the table" in section


def test_cell_page_clamps():
    class Cells:
        def __init__(self, size: int) -> None:
            self.order = list(range(size))

        def views(self, positions: list[int]) -> list[int]:
            return list(positions)

    page = cell_page(type("V", (), {"cells": Cells(7)})(), 9, size=3)  # type: ignore[arg-type]
    assert (page.cells, page.page, page.pages, page.total, page.first) == ((6,), 3, 3, 7, 7)
    empty = cell_page(type("V", (), {"cells": Cells(0)})(), 2, size=3)  # type: ignore[arg-type]
    assert (empty.cells, empty.page, empty.pages, empty.total) == ((), 1, 1, 0)


def test_the_page_leaves_out_only_the_correlations_over_weeks(db_session, world):
    filters = parse_filters(db_session, {"from": "2026-W10", "to": "2026-W13"}, None, today=MONDAY)
    full = kpi_vs_experience(db_session, filters)
    page = kpi_vs_experience(db_session, filters, over_time=False)
    assert full.correlations.over_time and page.correlations.over_time == ()
    assert tuple(page.cells) == tuple(full.cells) and page.watermelons == full.watermelons
    assert page.lead_lag == full.lead_lag and page.quadrant_counts == full.quadrant_counts
    assert repr(page.correlations.across_regions) == repr(full.correlations.across_regions)


def test_a_crowded_quadrant_chart_names_only_the_top_watermelons(db_session, world, monkeypatch):
    from perception.analysis.services import charts

    drawn = {}
    monkeypatch.setattr(charts, "QUADRANT_LABEL_ALL", 3)
    monkeypatch.setattr(charts, "QUADRANT_LABELLED", 2)
    monkeypatch.setattr(
        charts, "quadrant_chart", lambda points, *a, **k: drawn.setdefault("p", points) and b""
    )
    view = kpi_vs_experience(
        db_session, parse_filters(db_session, {"from": "2026-W10", "to": "2026-W13"}, None, today=MONDAY)
    )
    charts.quadrant_matrix_chart(view, zh=False)
    named = [p for p in drawn["p"] if p.label]
    assert len(drawn["p"]) == 12 and len(named) == 2
    top = view.watermelons[0]
    assert named[0].label.startswith(f"{top.region_name_en} · {top.service_name_en}") or named[
        1
    ].label.startswith(f"{top.region_name_en} · {top.service_name_en}")
    assert all(p.x * 2 == round(p.x * 2) and p.y * 2 == round(p.y * 2) for p in drawn["p"] if not p.label)
