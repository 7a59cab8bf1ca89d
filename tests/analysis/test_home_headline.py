"""Issue 19: the manager's home computed the four-week KPI-versus-experience comparison on every
load (about a second at 1M tickets / 300k responses, bench/bench_manager_pages.py). The headline is
kept per data version: an unchanged load reuses it, and a new answer or KPI value shows at once."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import delete

import perception.analysis.home as home
from perception.core.clock import Clock
from perception.kpi.models import KpiValue

CLOCK = Clock(fixed_now=datetime(2026, 3, 30, 4, 0))  # Monday of W14: W10-W13 complete


@pytest.fixture
def counted(monkeypatch):
    calls: list[int] = []
    compare = home.kpi_vs_experience

    def counting(*args, **kw):
        calls.append(1)
        return compare(*args, **kw)

    monkeypatch.setattr(home, "kpi_vs_experience", counting)
    home._kept.forget()
    return calls


def _figures(app, db_session, user):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        panel = home.analysis_panel(db_session, user, CLOCK)
    assert panel is not None
    return {f.label: f.value for f in panel.figures}


def test_home_headline_is_kept_until_an_answer_or_a_kpi_value_changes(
    app, db_session, org, catalog, observe, link_kpi, kpi_value, make_user, counted
):
    r1, desk = org["R1"]["region"], catalog["DESK"]
    resp = link_kpi(desk, "RESP", 0.95, "csat_share", 0.85)
    for week in range(4):
        kpi_value(resp, desk, r1, 0.97, 0.95, week=week, n=1000)
        observe(r1, desk, "csat", [5] * 12 + [2] * 13, week=week)  # 48 % on 100 answers
    user = make_user("headline_manager", "manager", region="R1")

    first = _figures(app, db_session, user)
    assert first["Evidenced watermelons"] == "1" and first["CSAT (share satisfied)"] == "48%"
    assert _figures(app, db_session, user) == first
    assert len(counted) == 1  # the second load reused the headline

    # New answers in the last week: CSAT (48 + 100) / 200 = 74 %, still short of 85 %.
    observe(r1, desk, "csat", [5] * 100, week=3)
    second = _figures(app, db_session, user)
    assert second["CSAT (share satisfied)"] == "74%" and len(counted) == 2

    # The KPI recomputed as missed: KPI red and experience red is no watermelon.
    db_session.execute(delete(KpiValue).where(KpiValue.region_id == r1.id))
    for week in range(4):
        kpi_value(resp, desk, r1, 0.90, 0.95, week=week, n=1000)
    third = _figures(app, db_session, user)
    assert third["Evidenced watermelons"] == "0" and len(counted) == 3
