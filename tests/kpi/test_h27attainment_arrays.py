"""The SLA attainment page's work over arrays (issue 19): the breach list chosen and ordered with
one sort instead of every breach as a Python tuple, each standard's tickets as one run of a sort
instead of a mask per standard, the opening days converted once per time zone instead of once per
region. Each gives what the per-ticket code gave: that code is kept here as the reference and
compared on frames shaped like a provider's (many regions sharing zones, standards with versions,
tickets of no standard, ties in the minutes over, overdue tickets, tickets outside the period)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pytest

from perception.kpi.services import ticket_frame
from perception.kpi.services.sla import KINDS, attainment_of_frame, breach_mask, list_breaches
from perception.kpi.services.targets import TicketTargets
from perception.kpi.services.ticket_frame import TicketFrame
from perception.kpi.services.ticket_time import utc_to_local
from scoring.attainment import standard_attainment


@dataclass(frozen=True)
class _Version:
    version_id: int
    standard_id: int
    standard_code: str
    service_id: int


class _Book:
    def __init__(self, rows: list[_Version]) -> None:
        self.rows = rows


def _frame(seed: int, n: int = 4000) -> tuple[TicketFrame, _Book]:
    rng = np.random.default_rng(seed)
    # Versions 1..12 of six standards; 13 and 14 are versions no book row names (standard -1).
    book = _Book(
        [_Version(v, 100 + (v - 1) // 2, f"STD-{(v - 1) // 2}", 7 + (v - 1) // 4) for v in range(1, 13)]
    )
    version = rng.integers(1, 15, n)
    version[rng.random(n) < 0.1] = -1  # no standard applies
    # Limits of whole hours and durations of whole minutes: many breaches tie on minutes over.
    limit = rng.choice([3600.0, 7200.0, 14400.0], n)
    limit[version == -1] = np.nan
    taken = rng.integers(0, 400, n) * 60.0
    unanswered = rng.random(n) < 0.15
    value = np.where(unanswered, np.nan, taken)
    elapsed = np.where(unanswered, rng.integers(0, 400, n) * 60.0, taken)
    opened = np.datetime64("2026-06-01T00:00:00") + rng.integers(0, 150 * 86400, n).astype("timedelta64[s]")
    ids = np.arange(1, n + 1, dtype=np.int64)
    targets = TicketTargets(
        response_limit_s=limit,
        response_share=np.where(version == -1, np.nan, rng.choice([80.0, 90.0, 95.0], n)),
        response_version=version,
        resolution_limit_s=limit * 4,
        resolution_share=np.where(version == -1, np.nan, 90.0),
        resolution_version=np.where(rng.random(n) < 0.5, version, rng.integers(1, 15, n)),
    )
    frame = TicketFrame(
        id=ids,
        service=rng.integers(7, 10, n),
        region=rng.integers(1, 40, n),
        customer=rng.integers(-1, 20, n),
        tier=rng.integers(-1, 3, n),
        priority=rng.integers(0, 5, n),
        unresolved=unanswered,
        reopen=np.zeros(n, dtype=np.int64),
        transfers=np.zeros(n, dtype=np.int64),
        opened=opened,
        first_response=opened,
        resolved=opened,
        local_day=opened.astype("datetime64[D]"),
        sla=np.full(n, -1, dtype=np.int64),
        response_s=value,
        resolution_s=np.where(unanswered, np.nan, taken * 3),
        response_elapsed_s=elapsed,
        resolution_elapsed_s=np.where(unanswered, elapsed * 3, taken * 3),
        targets=targets,
        in_period=rng.random(n) < 0.9,
        as_of=datetime(2026, 11, 1),
    )
    return frame, book


def _reference_picks(frame: TicketFrame, limit: int | None) -> list[tuple[float, int, str]]:
    """The breach list's order as the per-ticket code chose it (before issue 19's arrays)."""
    picks: list[tuple[float, int, str]] = []
    for kind in KINDS:
        mask = breach_mask(frame, kind) & frame.in_period
        elapsed = frame.response_elapsed_s if kind == "response" else frame.resolution_elapsed_s
        lim = frame.targets.response_limit_s if kind == "response" else frame.targets.resolution_limit_s
        for i in np.flatnonzero(mask).tolist():
            picks.append((float(elapsed[i] - lim[i]), i, kind))
    picks.sort(key=lambda p: (-p[0], p[1]))
    return picks if limit is None else picks[:limit]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("limit", [None, 500, 37])
def test_the_breach_list_is_the_per_ticket_codes(db_session, seed, limit):
    frame, _ = _frame(seed)
    expected = _reference_picks(frame, limit)
    assert len({p[0] for p in expected}) < len(expected)  # ties in minutes over are there to order
    listed = list_breaches(db_session, frame, limit=limit)
    assert [(b.over_minutes, b.ticket_id, b.kind) for b in listed] == [
        (over / 60.0, int(frame.id[i]), kind) for over, i, kind in expected
    ]
    for breach, (_, i, kind) in zip(listed, expected, strict=True):
        overdue = frame.response_overdue if kind == "response" else frame.resolution_overdue
        version = frame.targets.response_version if kind == "response" else frame.targets.resolution_version
        assert breach.overdue == bool(overdue[i])
        assert breach.standard_version_id == int(version[i])
    assert any(b.overdue for b in listed) and any(not b.overdue for b in listed)


def _reference_attainment(frame: TicketFrame, book: _Book, granularity: str, customer_id: int | None):
    """attainment_of_frame as the per-ticket code computed it: a mask over every ticket per standard."""
    from perception.kpi.services.compute import within_target
    from perception.kpi.services.ticket_time import period_starts

    keep = frame.in_period if customer_id is None else frame.in_period & (frame.customer == customer_id)
    frame = frame.subset(keep)
    standard_of = {r.version_id: (r.standard_id, r.standard_code, r.service_id) for r in book.rows}
    period = period_starts(frame.local_day, granularity)
    out = []
    for kind in KINDS:
        t = frame.targets
        version = t.response_version if kind == "response" else t.resolution_version
        standard = np.array(
            [standard_of.get(int(v), (-1, "", -1))[0] for v in version.tolist()], dtype=np.int64
        )
        for sid in sorted(set(standard.tolist()) - {-1}):
            mask = standard == sid
            periods, codes = np.unique(period[mask], return_inverse=True)
            w = within_target(
                codes.ravel().astype(np.intp),
                periods.size,
                (frame.response_s if kind == "response" else frame.resolution_s)[mask],
                (frame.response_overdue if kind == "response" else frame.resolution_overdue)[mask],
                (t.response_limit_s if kind == "response" else t.resolution_limit_s)[mask],
                (t.response_share if kind == "response" else t.resolution_share)[mask],
                version[mask],
            )
            out.append(
                (
                    sid,
                    kind,
                    periods.tolist(),
                    w.measured.tolist(),
                    w.hits.tolist(),
                    w.share.tolist(),
                    w.required.tolist(),
                )
            )
    return out


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("granularity", ["month", "week"])
@pytest.mark.parametrize("customer_id", [None, 3])
def test_each_standards_attainment_is_the_per_ticket_codes(seed, granularity, customer_id):
    frame, book = _frame(seed)
    rows = attainment_of_frame(frame, book, granularity, customer_id)
    expected = _reference_attainment(frame, book, granularity, customer_id)
    assert len(rows) == len(expected) >= 10
    for row, (sid, kind, periods, measured, hits, share, required) in zip(rows, expected, strict=True):
        assert (row.standard_id, row.kind) == (sid, kind)
        assert row.standard_code == f"STD-{sid - 100}"
        assert len(row.labels) == len(periods)
        assert list(row.measured) == measured and list(row.hits) == hits
        values = [None if v != v else v for v in share]
        targets = [None if v != v else v for v in required]
        assert row.result == standard_attainment(row.labels, values, ">=", targets)


def test_opening_days_are_converted_per_zone_as_per_region(db_session, monkeypatch):
    """Regions in three zones, one without a zone and two the table does not know (the default
    zone), opening times over Europe's change to summer time: every day as converting region by
    region gives it."""
    zones = {1: "Asia/Shanghai", 2: "Europe/Berlin", 3: "Asia/Shanghai", 4: "America/New_York", 5: None}
    monkeypatch.setattr(
        ticket_frame,
        "region_zones",
        lambda _s: {r: z or ticket_frame.DEFAULT_TIMEZONE for r, z in zones.items()},
    )
    rng = np.random.default_rng(5)
    n = 5000
    region = rng.integers(1, 8, n)  # 6 and 7: not in the table
    opened = np.datetime64("2026-03-25T00:00:00") + rng.integers(0, 10 * 86400, n).astype("timedelta64[s]")
    opened[::97] = np.datetime64("NaT")
    days = ticket_frame._local_days(db_session, opened, region)
    for region_id in range(1, 8):
        mask = region == region_id
        zone = zones.get(region_id) or ticket_frame.DEFAULT_TIMEZONE
        expected = utc_to_local(opened[mask], zone).astype("datetime64[D]")
        np.testing.assert_array_equal(days[mask], expected)
