"""Issue 19: pooled percentiles read the durations compute_kpis stores per region and week
(kpi.services.duration_arrays) instead of reloading the tickets. Whatever the source, the value is
numpy.percentile(method="linear") over the union of the tickets: checked per keep, week and whole
period, with tiers, ties, a week without tickets, partial weeks at the edges, a region without
arrays, a late ticket import and its recompute."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import delete, func, select

import perception.kpi.services.pooled as pooled_module
from perception.kpi.models import KpiDurationArray
from perception.kpi.services.compute import compute_kpis
from perception.kpi.services.duration_arrays import load_week_segments, store_week_arrays
from perception.kpi.services.pooled import pooled_percentiles
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from tests.kpi.conftest import csv_bytes, ticket_row

MONDAY = date(2026, 3, 2)
WEEKS = 4
GAP = 2  # no ticket opened in the third week
AS_OF = datetime(2026, 5, 1)


def _fmt(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


def _draw() -> list[dict]:
    """Tickets: week, weekday, region, service, tier, response and resolution minutes (None: not
    resolved); small integer minutes, so ties are many."""
    rng = np.random.default_rng(19)
    out = []
    for i in range(160):
        week = int(rng.integers(0, WEEKS))
        if week == GAP:
            continue
        resolved = None if rng.random() < 0.1 else int(rng.integers(5, 60))
        out.append(
            {
                "id": f"A{i}",
                "day": MONDAY + timedelta(weeks=week, days=int(rng.integers(0, 5))),
                "region": ("R1", "R2")[int(rng.integers(0, 2))],
                "service": ("DESK", "NET")[int(rng.integers(0, 2))],
                "tier": ("GOLD", "SILVER")[int(rng.integers(0, 2))],
                "response": int(rng.integers(1, 8)),
                "resolution": resolved,
            }
        )
    return out


def _rows(tickets: list[dict]) -> list[dict[str, str]]:
    rows = []
    for k, t in enumerate(tickets):
        opened = datetime.combine(t["day"], datetime.min.time()) + timedelta(hours=9, minutes=k % 50)
        rows.append(
            ticket_row(
                t["id"],
                region=t["region"],
                customer=f"{t['region']}-C",
                service=t["service"],
                tier=t["tier"],
                opened=_fmt(opened),
                first_response=_fmt(opened + timedelta(minutes=t["response"])),
                resolved=_fmt(opened + timedelta(minutes=t["resolution"])) if t["resolution"] else "",
                closed="",
                status="resolved" if t["resolution"] else "in_progress",
            )
        )
    return rows


@pytest.fixture
def tickets(db_session, catalog):
    drawn = _draw()
    import_tickets(db_session, ImportOptions(dry_run=False), data=csv_bytes(_rows(drawn)))
    compute_kpis(db_session, MONDAY, MONDAY + timedelta(weeks=WEEKS), as_of=AS_OF)
    return drawn


def _ids(catalog) -> dict[str, dict[str, int]]:
    return {
        "region": {c: catalog[c]["region"].id for c in ("R1", "R2")},
        "service": {c: catalog[c].id for c in ("DESK", "NET")},
        "tier": {c: catalog[c].id for c in ("GOLD", "SILVER")},
    }


def _expected(drawn, catalog, keep, start, end, whole) -> dict[tuple, tuple[float, int]]:
    """numpy.percentile over the drawn tickets grouped by hand."""
    ids = _ids(catalog)
    groups: dict[tuple, dict[str, list[float]]] = {}
    for t in drawn:
        if not start <= t["day"] < end:
            continue
        period = start if whole else t["day"] - timedelta(days=t["day"].weekday())
        key = (*(ids[k][t[k]] for k in keep), period)
        g = groups.setdefault(key, {"response": [], "resolution": []})
        g["response"].append(t["response"])
        if t["resolution"] is not None:
            g["resolution"].append(t["resolution"])
    out = {}
    for key, g in groups.items():
        for column, name in (("response", "RESPONSE"), ("resolution", "RESOLUTION")):
            if g[column]:
                for q in (50, 90):
                    value = float(np.percentile(np.array(g[column], dtype=float), q, method="linear"))
                    out[(f"TK_{name}_P{q}", *key[:-1], key[-1])] = (value, len(g[column]))
    return out


def _check(found, expected) -> None:
    assert set(found) == set(expected)
    for key, (value, n) in expected.items():
        assert found[key][1] == n
        assert found[key][0] == pytest.approx(value, rel=1e-12, abs=1e-12)


KEEPS = [(), ("service",), ("region",), ("service", "region"), ("service", "region", "tier"), ("tier",)]


def _no_tickets(monkeypatch) -> None:
    def refuse(*_a, **_k):
        raise AssertionError("the tickets were read although the arrays cover the period")

    monkeypatch.setattr(pooled_module, "load_durations", refuse)


def _forget_arrays(db_session, **where) -> None:
    stmt = delete(KpiDurationArray)
    for column, value in where.items():
        stmt = stmt.where(getattr(KpiDurationArray, column) == value)
    db_session.execute(stmt)


def test_compute_stores_a_row_per_region_and_week_even_without_tickets(db_session, tickets):
    rows = db_session.scalar(select(func.count()).select_from(KpiDurationArray))
    assert rows == WEEKS * 2  # R1 and R2 (catalog's regions), the empty week included
    segs, covered = load_week_segments(
        db_session,
        MONDAY,
        MONDAY + timedelta(weeks=WEEKS),
        {r.region_id for r in db_session.scalars(select(KpiDurationArray))},
    )
    assert len(covered) == WEEKS
    assert int(segs.response_s.count.sum()) == len(tickets)
    assert int(segs.resolution_s.count.sum()) == sum(t["resolution"] is not None for t in tickets)


@pytest.mark.parametrize("keep", KEEPS)
def test_pooled_from_arrays_equals_tickets_equals_numpy(db_session, catalog, tickets, keep, monkeypatch):
    start, end = MONDAY, MONDAY + timedelta(weeks=WEEKS)
    with monkeypatch.context() as m:
        _no_tickets(m)
        weekly = pooled_percentiles(db_session, start, end, keep)
        whole = pooled_percentiles(db_session, start, end, keep, granularity=None)
    _check(weekly, _expected(tickets, catalog, keep, start, end, whole=False))
    _check(whole, _expected(tickets, catalog, keep, start, end, whole=True))
    _forget_arrays(db_session)  # every week from the tickets now
    from_tickets_weekly = pooled_percentiles(db_session, start, end, keep)
    assert from_tickets_weekly == weekly  # the same floats, not only close
    assert pooled_percentiles(db_session, start, end, keep, granularity=None) == whole


def test_scope_filters_and_partial_weeks(db_session, catalog, tickets):
    ids = _ids(catalog)
    r1, gold, desk = ids["region"]["R1"], ids["tier"]["GOLD"], ids["service"]["DESK"]
    start, end = MONDAY + timedelta(days=2), MONDAY + timedelta(weeks=3, days=3)  # Wednesday to Thursday
    found = pooled_percentiles(db_session, start, end, ("service",), region_ids=frozenset({r1}), tier_id=gold)
    mine = [t for t in tickets if t["region"] == "R1" and t["tier"] == "GOLD"]
    # The partial weeks at the edges (from the tickets) key by their Mondays, as before.
    _check(found, _expected(mine, catalog, ("service",), start, end, whole=False))
    only_desk = pooled_percentiles(db_session, start, end, (), service_id=desk, granularity=None)
    _check(
        only_desk, _expected([t for t in tickets if t["service"] == "DESK"], catalog, (), start, end, True)
    )


def test_a_region_without_arrays_is_read_from_the_tickets(db_session, catalog, tickets):
    start, end = MONDAY, MONDAY + timedelta(weeks=WEEKS)
    everything = pooled_percentiles(db_session, start, end, ("service",))
    r2 = _ids(catalog)["region"]["R2"]
    _forget_arrays(db_session, region_id=r2, period_start=MONDAY + timedelta(weeks=1))
    db_session.commit()  # a new transaction: nothing kept from before
    again = pooled_percentiles(db_session, start, end, ("service",))
    assert again == everything
    _check(again, _expected(tickets, catalog, ("service",), start, end, whole=False))


def test_a_late_ticket_import_forgets_the_week_until_the_recompute(db_session, catalog, tickets, monkeypatch):
    start, end = MONDAY, MONDAY + timedelta(weeks=WEEKS)
    late = {
        "id": "LATE", "day": MONDAY + timedelta(weeks=1, days=3), "region": "R1", "service": "NET",
        "tier": "GOLD", "response": 7, "resolution": 5000,
    }  # fmt: skip
    import_tickets(db_session, ImportOptions(dry_run=False), data=csv_bytes(_rows([late])))
    r1 = _ids(catalog)["region"]["R1"]
    weeks_r1 = set(
        db_session.scalars(select(KpiDurationArray.period_start).where(KpiDurationArray.region_id == r1))
    )
    assert MONDAY + timedelta(weeks=1) not in weeks_r1  # forgotten by the import
    both = [*tickets, late]
    _check(pooled_percentiles(db_session, start, end, ()), _expected(both, catalog, (), start, end, False))
    compute_kpis(db_session, MONDAY + timedelta(weeks=1), MONDAY + timedelta(weeks=2), as_of=AS_OF)
    with monkeypatch.context() as m:
        _no_tickets(m)
        for keep in KEEPS:
            _check(
                pooled_percentiles(db_session, start, end, keep),
                _expected(both, catalog, keep, start, end, False),
            )


def test_arrays_round_trip_whole_and_fractional_seconds(db_session, catalog):
    """Covered seconds are whole for second-precision times (stored as int32) but need not be:
    fractional values are stored as float64, exactly."""
    r1 = _ids(catalog)["region"]["R1"]
    week = date(2027, 1, 4)
    for values in ([3.0, 1.0, np.nan, 2.0], [0.1, 1e-9, 7.25, np.nan]):
        n = len(values)
        store_week_arrays(
            db_session, [week], frozenset({r1}), np.full(n, 5), np.full(n, r1), np.full(n, -1),
            np.full(n, np.datetime64(week + timedelta(days=1), "D")),
            np.array(values), np.array(values[::-1]),
        )  # fmt: skip
        segs, covered = load_week_segments(db_session, week, week + timedelta(weeks=1), {r1})
        assert covered == [week]
        finite = sorted(v for v in values if not np.isnan(v))
        assert segs.response_s.values.tolist() == finite
        assert segs.resolution_s.values.tolist() == finite


def test_a_backfill_stores_what_compute_stores(db_session, tickets):
    """For a database computed before the arrays existed: the same bytes without a recompute."""
    from perception.kpi.services.duration_arrays import backfill_week_arrays

    def stored():
        cols = (KpiDurationArray.period_start, KpiDurationArray.region_id, KpiDurationArray.dtype)
        blobs = (KpiDurationArray.segments, KpiDurationArray.response, KpiDurationArray.resolution)
        return sorted(tuple(r) for r in db_session.execute(select(*cols, *blobs)))

    computed = stored()
    _forget_arrays(db_session)
    assert stored() == []
    assert backfill_week_arrays(db_session, MONDAY, MONDAY + timedelta(weeks=WEEKS)) == WEEKS * 2
    assert stored() == computed
