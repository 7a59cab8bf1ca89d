"""The pre-aggregated weekly sums give exactly the numbers the facts give, are used only while
they match the facts, and are rebuilt when the facts change (PostgreSQL and SQLite: the write
counter ``experience_facts``, perception.kpi.services.data_version)."""

from __future__ import annotations

import pytest

from perception.analysis.services.filters import parse_filters
from tests.analysis.conftest import MONDAY


def test_rollup_matches_facts_and_follows_changes(app, db_session, org, catalog, observe, period_args):
    from perception.analysis.jobs import rollup_for_pages
    from perception.analysis.services.overview import overview
    from perception.analysis.services.rollup import (
        RollupFreshness,
        refresh_rollup,
        rollup_freshness,
        rollup_usable,
    )

    r1, r2, desk = org["R1"]["region"], org["R2"]["region"], catalog["DESK"]
    observe(r1, desk, "csat", [5, 4, 2, 1, 5], week=0)
    observe(r2, desk, "nps", [10, 9, 3, 7], week=1, scale=(0, 10))
    observe(r1, desk, "likert", [4, 5, 3], week=2, dimension="staff_attitude")
    observe(r1, None, "rating", [2, 3], week=3, dimension="response_speed", scale=(1, 7))
    f = parse_filters(db_session, period_args, None, today=MONDAY)
    live = overview(db_session, f).to_dict()
    built = refresh_rollup(db_session, force=True)
    assert built and built >= 4
    assert rollup_usable(db_session)
    fast = overview(db_session, f).to_dict()
    assert fast["total"]["csat"] == live["total"]["csat"] and fast["total"]["nps"] == live["total"]["nps"]
    for a, b in zip(fast["regions"], live["regions"], strict=True):
        assert a["csat"] == b["csat"] and a["nps"] == b["nps"]
        assert (a["index"] or {}).get("estimate") == pytest.approx((b["index"] or {}).get("estimate"))
    assert [p["csat"] for p in fast["trend"]] == [p["csat"] for p in live["trend"]]
    # New facts change the write counters once their transaction reports them; simulate that a
    # write happened by changing the stored signature: the pages then read the facts again.
    from sqlalchemy import select

    from perception.analysis.models import AnalysisRollupState

    state = db_session.scalar(select(AnalysisRollupState))
    state.signature = "stale"
    db_session.flush()
    assert not rollup_usable(db_session) and rollup_freshness(db_session) is RollupFreshness.STALE
    refresh_rollup(db_session, force=True)
    assert rollup_usable(db_session)
    app.config["ANALYSIS_ROLLUP"] = False
    try:
        assert not rollup_for_pages(db_session)  # switched off by configuration
        off = overview(db_session, f, use_rollup=False).to_dict()
        assert off["total"]["csat"] == live["total"]["csat"]
    finally:
        app.config.pop("ANALYSIS_ROLLUP")


@pytest.mark.parametrize("queue_up", [True, False])
def test_stale_rollup_asks_the_worker_for_a_refresh(app, db_session, monkeypatch, queue_up):
    """A page that finds the sums stale asks for a rebuild when a worker exists; a queue that is
    down is logged, the page goes on reading the facts."""
    from perception.analysis import jobs
    from perception.analysis.services.rollup import RollupFreshness

    sent: list[str] = []

    def enqueue(name: str, **_: object) -> str:
        if not queue_up:
            raise ConnectionError("redis is down")
        sent.append(name)
        return "job-1"

    monkeypatch.setattr(jobs, "enqueue", enqueue)
    monkeypatch.setattr(jobs, "rollup_freshness", lambda session: RollupFreshness.STALE)
    assert jobs.rollup_for_pages(db_session) and sent == []  # no queue: the hourly run rebuilds them
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://queue.invalid/0")
    assert jobs.rollup_for_pages(db_session)  # outside a request the hook runs at once
    assert sent == (["refresh_analysis_rollup"] if queue_up else [])
    for readable in (RollupFreshness.CURRENT, RollupFreshness.PARTIAL):  # PARTIAL: current-week answers
        monkeypatch.setattr(jobs, "rollup_freshness", lambda session, found=readable: found)
        sent.clear()
        assert jobs.rollup_for_pages(db_session) and sent == []
