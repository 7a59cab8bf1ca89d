"""A chart draws from the view its page just computed (perception.analysis.views.recent): with the
same filters and the same sign-in it reads nothing but the signed-in user; with other filters,
another sign-in or once the entry has expired it computes the view itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

PERIOD = "from=2026-W10&to=2026-W13"
QUADRANT = f"/analysis/chart/quadrant.svg?{PERIOD}"
# The signed-in user and their roles, inside the request's savepoint (SAVEPOINT, RELEASE).
ONLY_THE_USER = 4


@pytest.fixture
def data(db_session, org, catalog, observe, link_kpi, kpi_value):
    r1, r2 = org["R1"]["region"], org["R2"]["region"]
    desk = catalog["DESK"]
    d = link_kpi(desk, "RESP", 0.95, "csat_share", 0.85)
    for week in range(4):
        kpi_value(d, desk, r1, 0.97, 0.95, week=week)
        kpi_value(d, desk, r2, 0.90, 0.95, week=week)
        observe(r1, desk, "csat", [5] * 10 + [2] * 10, week=week)
        observe(r2, desk, "csat", [5] * 19 + [2], week=week)
    return {"r1": r1, "r2": r2, "kpi": d}


@contextmanager
def counting() -> Iterator[list[str]]:
    from perception.core.extensions import db

    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def chart_statements(client: Any, path: str) -> int:
    with counting() as statements:
        response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    return len(statements)


def test_the_chart_after_its_page_does_not_compute_the_comparison_again(login_as, data):
    c = login_as("manager")
    alone = chart_statements(c, QUADRANT)  # nothing kept yet for this sign-in: computes
    assert alone > ONLY_THE_USER
    assert c.get(f"/analysis/kpi-vs-experience?{PERIOD}").status_code == 200
    assert chart_statements(c, QUADRANT) <= ONLY_THE_USER
    # Other filters: computed afresh.
    assert chart_statements(c, "/analysis/chart/quadrant.svg?from=2026-W11&to=2026-W13") > ONLY_THE_USER
    # Another sign-in (even of a user with the same scope) never sees this one's entries.
    other = login_as("analyst")
    assert chart_statements(other, QUADRANT) > ONLY_THE_USER


def test_the_kpi_trend_charts_draw_from_the_kpi_page(login_as, data):
    c = login_as("analyst")
    assert c.get(f"/analysis/kpis?{PERIOD}").status_code == 200
    trend = f"/analysis/chart/kpi_trend.svg?{PERIOD}&kpi={data['kpi'].id}"
    assert chart_statements(c, trend) <= ONLY_THE_USER


def test_the_charts_of_the_overview_and_the_experience_pages(login_as, data):
    c = login_as("analyst")
    assert c.get(f"/analysis/overview?{PERIOD}").status_code == 200
    for name in ("overview_trend", "region_csat"):
        assert chart_statements(c, f"/analysis/chart/{name}.svg?{PERIOD}") <= ONLY_THE_USER
    assert c.get(f"/analysis/experience?{PERIOD}").status_code == 200
    for name in ("heatmap", "dimensions"):
        assert chart_statements(c, f"/analysis/chart/{name}.svg?{PERIOD}") <= ONLY_THE_USER


def test_a_collector_keeps_to_their_region(login_as, data):
    """The filters carry the region scope: a collector's chart shows their region only, and asking
    for another region is still a 404 after the manager's page was computed."""
    manager = login_as("manager")
    assert manager.get(f"/analysis/kpi-vs-experience?{PERIOD}").status_code == 200
    collector = login_as("collector", region="R2")
    assert collector.get(f"{QUADRANT}&region={data['r1'].id}").status_code == 404
    svg = collector.get(QUADRANT).get_data(as_text=True)
    assert ("Shanghai" in svg or "上海" in svg) and "Beijing" not in svg and "北京" not in svg


def test_entries_expire_and_the_oldest_is_dropped():
    from perception.analysis.views.recent import RecentViews

    now = [0.0]
    store = RecentViews(ttl=60, max_entries=2, clock=lambda: now[0])
    store.put("a", "view a")
    now[0] = 59.0
    assert store.get("a") == "view a"
    now[0] = 60.0
    assert store.get("a") is None and len(store) == 0
    for key in ("b", "c", "d"):
        store.put(key, key)
    assert len(store) == 2 and store.get("b") is None and store.get("d") == "d"
    now[0] = 200.0
    store.put("e", "e")  # putting drops what has expired
    assert len(store) == 1
