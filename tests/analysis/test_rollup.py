"""The pre-aggregated weekly sums give exactly the numbers the facts give, are used only while
they match the facts, and are rebuilt when the facts change. PostgreSQL only (SQLite keeps no
write counters, so it always reads the facts: checked too)."""

from __future__ import annotations

import pytest

from perception.analysis.services.filters import parse_filters


def _is_pg(db_session) -> bool:
    return db_session.get_bind().dialect.name == "postgresql"


def test_rollup_matches_facts_and_follows_changes(app, db_session, org, catalog, observe, period_args):
    from perception.analysis.services.overview import overview
    from perception.analysis.services.rollup import refresh_rollup, rollup_usable

    r1, r2, desk = org["R1"]["region"], org["R2"]["region"], catalog["DESK"]
    observe(r1, desk, "csat", [5, 4, 2, 1, 5], week=0)
    observe(r2, desk, "nps", [10, 9, 3, 7], week=1, scale=(0, 10))
    observe(r1, desk, "likert", [4, 5, 3], week=2, dimension="staff_attitude")
    observe(r1, None, "rating", [2, 3], week=3, dimension="response_speed", scale=(1, 7))
    f = parse_filters(db_session, period_args, None)
    live = overview(db_session, f).to_dict()
    built = refresh_rollup(db_session, force=True)
    if not _is_pg(db_session):
        assert built is None and not rollup_usable(db_session)
        return
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
    assert not rollup_usable(db_session)
    app.config["ANALYSIS_ROLLUP"] = False
    try:
        refresh_rollup(db_session, force=True)
        assert not rollup_usable(db_session)  # switched off by configuration
    finally:
        app.config.pop("ANALYSIS_ROLLUP")
