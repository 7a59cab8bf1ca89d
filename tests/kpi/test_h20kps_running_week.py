"""Issue 19: a week's tickets are read between the zones' own day bounds (ticket_time.day_start_window)
and, on PostgreSQL, through the (region_id, opened_at) index over every region id the ticket table
holds (ticket_fetch). The same tickets as the lead's way (a day's margin either side, one scan of
the table): checked against the local days Python's zoneinfo gives, minute by minute across daylight
saving changes, a skipped day, half-hour zones, a region without a zone and a region id no region
row has."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from perception.kpi.models import Ticket, TicketStatus
from perception.kpi.services.ticket_fetch import fetch_tickets
from perception.kpi.services.ticket_frame import load_durations
from perception.kpi.services.ticket_time import day_start_window, utc_to_local

ZONES = (
    "Asia/Shanghai",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # half an hour of daylight saving, not on the hour
    "Asia/Kathmandu",  # +05:45
    "Pacific/Apia",  # skipped 2011-12-30 altogether
    "Pacific/Kiritimati",  # +14
    "Etc/GMT+12",  # -12
)
DAYS = (
    date(2026, 3, 29),  # Berlin's spring change
    date(2026, 3, 8),  # New York's
    date(2026, 4, 5),  # Lord Howe's autumn change
    date(2026, 10, 25),
    date(2011, 12, 30),
    date(2011, 12, 31),
    date(2026, 12, 7),
)


def _minutes(day: date) -> np.ndarray:
    midnight = np.datetime64(datetime.combine(day, datetime.min.time()), "m")
    return (midnight + np.arange(-30 * 60, 30 * 60).astype("timedelta64[m]")).astype("datetime64[s]")


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize("zone", ZONES)
def test_day_start_window_bounds_every_minute(zone: str, day: date) -> None:
    lo, hi = day_start_window(day, [zone])
    moments = _minutes(day)
    start = np.datetime64(day, "D")
    for local in (
        utc_to_local(moments, zone).astype("datetime64[D]"),  # the days the pages use
        np.array(  # zoneinfo's own, independently
            [
                datetime.fromtimestamp(int(s), UTC).astimezone(ZoneInfo(zone)).date()
                for s in moments.astype(np.int64).tolist()
            ],
            dtype="datetime64[D]",
        ),
    ):
        on_or_after = moments[local >= start]
        before = moments[local < start]
        assert on_or_after.min() >= np.datetime64(lo, "s")
        assert before.max() < np.datetime64(hi, "s")


def test_day_start_window_is_the_offset_in_a_fixed_zone() -> None:
    assert day_start_window(date(2026, 12, 7), ["Asia/Shanghai"]) == (
        datetime(2026, 12, 6, 16),
        datetime(2026, 12, 6, 16),
    )
    lo, hi = day_start_window(date(2026, 12, 7), ["Asia/Shanghai", "Europe/Berlin"])
    assert (lo, hi) == (datetime(2026, 12, 6, 16), datetime(2026, 12, 6, 23))


@pytest.fixture
def zoned(db_session, catalog):
    """Tickets around the local midnights of a week's edges in three zones (R2 has none: the
    default zone), and one of a region id no region row holds."""
    r1, r2 = catalog["R1"]["region"], catalog["R2"]["region"]
    r1.timezone = "America/New_York"
    extra = type(r1)(code="R3", name_zh="柏林", name_en="Berlin", timezone="Europe/Berlin")
    db_session.add(extra)
    db_session.flush()
    service = catalog["DESK"].id
    regions = [r1.id, r2.id, extra.id, 99_999]
    edges = [datetime(2026, 3, 2), datetime(2026, 3, 9), datetime(2026, 3, 16)]
    tickets = []
    k = 0
    for region in regions:
        for edge in edges:
            for minutes in range(-27 * 60, 27 * 60, 37):
                opened = edge + timedelta(minutes=minutes)
                k += 1
                tickets.append(
                    Ticket(
                        external_id=f"Z{k}",
                        service_id=service,
                        region_id=region,
                        priority="P3",
                        opened_at=opened,
                        first_response_at=opened + timedelta(minutes=5 + k % 7),
                        resolved_at=opened + timedelta(minutes=60 + k % 11) if k % 5 else None,
                        status=TicketStatus.CANCELLED if k % 13 == 0 else TicketStatus.RESOLVED,
                    )
                )
    db_session.add_all(tickets)
    db_session.flush()
    zones = {r1.id: "America/New_York", r2.id: "Asia/Shanghai", extra.id: "Europe/Berlin"}
    return tickets, zones


def _local_day(t: Ticket, zones: dict[int, str]) -> date:
    zone = ZoneInfo(zones.get(t.region_id, "Asia/Shanghai"))
    return t.opened_at.replace(tzinfo=UTC).astimezone(zone).date()


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 3, 2), date(2026, 3, 9)),
        (date(2026, 3, 9), date(2026, 3, 16)),
        (date(2026, 3, 4), date(2026, 3, 9)),
    ],
)
@pytest.mark.parametrize("scope", ["all", "some"])
def test_load_durations_reads_the_tickets_of_the_local_days(db_session, zoned, start, end, scope) -> None:
    tickets, zones = zoned
    region_ids = None if scope == "all" else frozenset(list(zones)[:2])
    expected = sorted(
        (t.region_id, t.opened_at)
        for t in tickets
        if t.status != TicketStatus.CANCELLED
        and start <= _local_day(t, zones) < end
        and (region_ids is None or t.region_id in region_ids)
    )
    assert any(r == 99_999 for r, _ in expected) == (scope == "all")
    d = load_durations(db_session, start, end, region_ids=region_ids)
    by_id = {t.id: t for t in tickets}
    raw = fetch_tickets(
        db_session,
        datetime.combine(start, datetime.min.time()) - timedelta(days=1),
        datetime.combine(end, datetime.min.time()) + timedelta(days=1),
        region_ids,
        opened_only=True,
    )
    assert sorted(by_id[i].region_id for i in raw.id.tolist()) == sorted(
        t.region_id
        for t in tickets
        if t.status != TicketStatus.CANCELLED
        and datetime.combine(start, datetime.min.time()) - timedelta(days=1)
        <= t.opened_at
        < datetime.combine(end, datetime.min.time()) + timedelta(days=1)
        and (region_ids is None or t.region_id in region_ids)
    )
    found = sorted(zip(d.region.tolist(), d.local_day.astype("datetime64[D]").tolist(), strict=True))
    assert found == sorted((r, _local_day(by_key, zones)) for r, by_key in _tickets_by(tickets, expected))
    assert len(d) == len(expected)


def _tickets_by(tickets, keys):
    index = {(t.region_id, t.opened_at): t for t in tickets}
    return [(r, index[(r, o)]) for r, o in keys]
