"""Issue 19: TargetBook.ticket_targets grouped tickets by service x tier x customer x priority (200,000
groups at national scale, 26 s of the attainment page's 42). A tier, customer or priority that no
version of the service names now falls into the "none" group; the targets must be exactly main's."""

from __future__ import annotations

import random
from datetime import date, timedelta

import numpy as np

from perception.kpi.services.arrays import distinct_rows
from perception.kpi.services.targets import (
    PRIORITIES,
    RESOLUTION,
    RESPONSE,
    TargetBook,
    VersionRow,
)


def _main_ticket_targets(book, service, tier, customer, priority, day):
    """main's TargetBook.ticket_targets, group by group (the reference)."""
    n = service.size
    out = {
        k: np.full(n, np.nan)
        for k in ("response_limit_s", "response_share", "resolution_limit_s", "resolution_share")
    }
    versions = {"response_version": np.full(n, -1, np.int64), "resolution_version": np.full(n, -1, np.int64)}
    (services, tiers, customers, priorities), inverse = distinct_rows(service, tier, customer, priority)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(services.size + 1))
    days = day.astype("datetime64[D]")
    for k in range(services.size):
        idx = order[bounds[k] : bounds[k + 1]]
        tr, cu = int(tiers[k]), int(customers[k])
        name = PRIORITIES[int(priorities[k])] or None
        for kind, metrics in (("response", RESPONSE), ("resolution", RESOLUTION)):
            for row in book.candidates(
                metrics, int(services[k]), tr if tr >= 0 else None, cu if cu >= 0 else None, name
            ):
                pair = row.limit_and_share()
                if pair is None:
                    continue
                d = days[idx]
                hit = idx[(d >= np.datetime64(row.start, "D")) & (d < np.datetime64(row.end, "D"))]
                out[f"{kind}_limit_s"][hit], out[f"{kind}_share"][hit] = pair
                versions[f"{kind}_version"][hit] = row.version_id
    return out, versions


def _book(rng):
    rows = []
    vid = 0
    for service in range(1, 7):
        for _ in range(rng.randint(0, 6)):
            vid += 1
            metric = rng.choice(RESPONSE + RESOLUTION)
            start = date(2026, 1, 1) + timedelta(days=rng.randint(0, 120))
            rows.append(
                VersionRow(
                    version_id=vid,
                    standard_id=100 + vid % 5,
                    standard_code=f"S{vid % 5}",
                    service_id=service,
                    tier_id=rng.choice([None, None, 1, 2]),
                    customer_id=rng.choice([None, None, None, 11, 12, 13]),
                    metric=metric,
                    priority=rng.choice([None, None, "P1", "P3", "P9"]),
                    comparator=">=",
                    target=rng.choice([None, 80.0, 0.9, 30.0]),
                    unit=rng.choice([None, "%"]),
                    time_limit_minutes=rng.choice([None, 30.0, 240.0]),
                    start=start,
                    end=rng.choice([date(9999, 12, 31), start + timedelta(days=rng.randint(1, 90))]),
                )
            )
    return TargetBook(rows)


def test_grouped_targets_are_mains():
    rng = random.Random(19)
    np_rng = np.random.default_rng(19)
    n = 20_000
    service = np_rng.integers(1, 8, n).astype(np.int64)  # service 7 has no version at all
    tier = np_rng.integers(-1, 4, n).astype(np.int64)
    customer = np_rng.choice(np.array([-1, 11, 12, 13, 14, 15], dtype=np.int64), n)
    priority = np_rng.integers(0, 5, n).astype(np.int64)
    day = (np.datetime64("2026-01-01") + np_rng.integers(0, 240, n).astype("timedelta64[D]")).astype(
        "datetime64[D]"
    )
    assigned = 0
    for _ in range(6):
        book = _book(rng)
        got = book.ticket_targets(service, tier, customer, priority, day)
        floats, ints = _main_ticket_targets(book, service, tier, customer, priority, day)
        assigned += int((ints["response_version"] >= 0).sum() + (ints["resolution_version"] >= 0).sum())
        for key, want in {**floats, **ints}.items():
            np.testing.assert_array_equal(getattr(got, key), want, err_msg=key)
    assert assigned > 10_000  # the books do give targets
