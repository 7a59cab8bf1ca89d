"""The KPI-versus-experience page after an answer of the current week (issue 19): its experience
side comes from the running sums up to their split and the facts of the weeks from it on
(analysis.services.experience_cumulative.period_table), not from the pre-aggregate summed over the
period (on ``lead``: every answer made the running sums unreadable, and the page summed the
pre-aggregate's year, 0.4 to 1.7 s at a tenth of national size), with the figures the facts give.

The page's figures: on the rolled-back fixture (SQLite, and PostgreSQL in the PostgreSQL pass;
the counters see the transaction's own writes). Over HTTP: an own SQLite app, a survey answered
through its link, then the page opened by a manager.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert

from perception.analysis.services import experience_cumulative as ec
from perception.analysis.services import facts as facts_module
from perception.analysis.services import kpi_experience as ke
from perception.analysis.services.filters import AnalysisFilters, parse_filters
from perception.analysis.services.freshness import Freshness, split_week_now
from perception.analysis.services.rollup import refresh_rollup
from perception.kpi.services.data_version import current_week_write
from tests.analysis.conftest import MONDAY
from tests.analysis.test_h19kve2_cell_sums import _close
from tests.analysis.test_h19kve2_cell_sums import national as kpi_national
from tests.analysis.test_lead_week_split import ZONE, _this_monday

__all__ = ["kpi_national"]  # the fixture, imported for pytest


def _iso(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _watch(monkeypatch: Any) -> dict[str, list[Any]]:
    """What the page reads: the running sums' periods, the facts' reads (their filters), and any
    sum of the pre-aggregate or the facts over the period by region and service."""
    seen: dict[str, list[Any]] = {"period": [], "facts": [], "summed": []}
    period_table, grouped, aggregate = ec.period_table, facts_module._grouped_rows, ke.aggregate
    with_facts = getattr(ec, "_with_facts", None)

    def table(*a: Any, **k: Any) -> Any:
        found = period_table(*a, **k)
        seen["period"].append(found)
        return found

    def rows(session: Any, filters: AnalysisFilters, *a: Any, rollup: bool, **k: Any) -> Any:
        if not rollup:
            seen["facts"].append(filters)
        return grouped(session, filters, *a, rollup=rollup, **k)

    def facts(session: Any, filters: AnalysisFilters, *a: Any) -> Any:
        seen["facts"].append(filters)
        assert with_facts is not None
        return with_facts(session, filters, *a)

    def summed(*a: Any, **k: Any) -> Any:
        if k.get("by") == ("region", "service"):
            seen["summed"].append(a[1])
        return aggregate(*a, **k)

    monkeypatch.setattr(ke, "period_table", table)
    monkeypatch.setattr(facts_module, "_grouped_rows", rows)
    monkeypatch.setattr(ec, "_with_facts", facts, raising=False)  # absent before the split
    monkeypatch.setattr(ke, "aggregate", summed)
    return seen


def test_the_page_after_an_answer_gives_the_facts_figures(
    db_session, kpi_national, catalog, observe, monkeypatch
):
    regions, desk, net = kpi_national, catalog["DESK"], catalog["NET"]
    current, split = _this_monday(), split_week_now()
    week = (current - MONDAY).days // 7
    for back in (1, 2, 3):  # recent weeks too, so the period's both sides have answers
        observe(regions["R1"], desk, "csat", [5, 4, 2], week=week - back)
        observe(regions["R2"], net, "nps", [9, 10, 3], week=week - back, scale=(0, 10))
    refresh_rollup(db_session, force=True)
    with current_week_write(db_session.connection(), "experience_observation", current, ZONE):
        observe(regions["R1"], desk, "csat", [1, 2, 5, 5], week=week)
        observe(regions["R2"], net, "nps", [0, 10], week=week, scale=(0, 10))
        observe(regions["R3"], net, "csat", [5, 4], week=week)  # a series the running sums lack
        observe(regions["R2"], net, "rating", [1, 2], week=week, dimension="response_speed")
    state = ec._current_state(db_session)
    assert state is not None and state[1].freshness is Freshness.PARTIAL
    compared = 0
    for scope in (None, frozenset({regions["R2"].id, regions["R3"].id})):
        for start in ("2026-W10", _iso(current - timedelta(weeks=13)), _iso(current)):
            filters = parse_filters(db_session, {"from": start, "to": _iso(current)}, scope, today=current)
            want = ke.kpi_vs_experience(db_session, filters, use_rollup=False, over_time=False)
            seen = _watch(monkeypatch)
            got = ke.kpi_vs_experience(db_session, filters, over_time=False)
            monkeypatch.undo()
            assert seen["summed"] == [] and seen["period"] and all(t is not None for t in seen["period"])
            assert all(f.start >= split for f in seen["facts"]), seen["facts"]
            assert [c.key for c in got.cells] == [c.key for c in want.cells]
            for a, b in zip(got.cells, want.cells, strict=True):
                assert a.experience_basis == b.experience_basis
                x, y = a.comparison.to_dict(), b.comparison.to_dict()
                assert x.keys() == y.keys() and all(_close(x[k], y[k]) for k in x), (a.key, x, y)
            assert [w.key for w in got.watermelons] == [w.key for w in want.watermelons]
            assert got.quadrant_counts == want.quadrant_counts and got.lead_lag == want.lead_lag
            compared += sum(1 for c in got.cells if c.comparison.n)
    assert compared > 10


def test_the_page_over_http_after_a_survey_answer_reads_no_past_week_from_the_facts(tmp_path, monkeypatch):
    from perception.analysis.services.rollup import rollup_reading
    from perception.core.extensions import db
    from perception.core.models.auth import Role
    from perception.core.models.facts import ExperienceObservation as Obs
    from perception.core.models.org import Region
    from perception.core.users import UserSpec, create_user
    from tests.conftest import PASSWORD, login
    from tests.surveys.conftest import answer_page, seed_personal_link
    from tests.surveys.test_race import INVITED, _app

    path = tmp_path / "page.sqlite"
    app = _app(f"sqlite:///{path}", tmp_path, monkeypatch, {})
    token = seed_personal_link(app, *INVITED, days=1)
    current, split = _this_monday(), split_week_now()
    with app.app_context():
        region = db.session.query(Region).one()
        rows = [
            {"source": "survey", "source_id": 1000 + i, "observed_on": current - timedelta(weeks=w),
             "period_start": current - timedelta(weeks=w), "region_id": region.id, "kind": "csat",
             "value": float(1 + (i + w) % 5), "scale_min": 1.0, "scale_max": 5.0}
            for w in range(1, 30) for i in range(4)
        ]  # fmt: skip
        db.session.execute(insert(Obs), rows)
        create_user(
            db.session,
            UserSpec(
                username="kve.manager", display_name="M", roles=frozenset({Role.MANAGER}), password=PASSWORD
            ),
        )
        db.session.commit()
        refresh_rollup(db.session)
        db.session.commit()
        db.session.remove()
    ke.forget_kept()

    answering = app.test_client()
    assert answering.get(f"/s/t/{token}").status_code == 303
    assert answer_page(answering, "/s/r", {"csat": "5"}, action="submit").status_code == 303
    with app.app_context():
        assert rollup_reading(db.session).freshness is Freshness.PARTIAL  # the answer was declared
        db.session.remove()

    manager = app.test_client()
    assert login(manager, "kve.manager").status_code == 302
    seen = _watch(monkeypatch)
    for query in ("", f"?from={_iso(current - timedelta(weeks=51))}&to={_iso(current)}"):
        assert manager.get(f"/analysis/kpi-vs-experience{query}").status_code == 200
    assert seen["summed"] == []  # not the pre-aggregate summed over the period
    assert len(seen["period"]) == 2 and all(t is not None for t in seen["period"])
    assert seen["facts"] and all(f.start >= split for f in seen["facts"]), seen["facts"]
    # The answer is in the page's experience side: the current week's csat, read from the facts.
    week = seen["period"][0]
    assert week.stats[:, 0].sum() == 13 * 4 + 1  # the default 14 weeks
    ke.forget_kept()
    with app.app_context():
        db.engine.dispose()
