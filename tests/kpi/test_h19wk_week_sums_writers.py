"""Issue 19: the writers of KPI values keep the weekly sums over the regions current
(kpi.services.kpi_week_sums): the value import (new weeks, a changed early week, a new series, a
week past the last, one region only), the computation from tickets (the same weeks again, a later
week, one region, weeks whose tickets are gone so their values are deleted). After each, the sums
are current and equal a grouping of every value from nothing. A writer of kpi_value that does not
keep them is caught twice: its test finds them stale, and the source scan below finds it."""

from __future__ import annotations

import math
import re
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

import perception
from perception.kpi.models import KpiDefinition, KpiValue, KpiWeekSum, KpiWeekSumState, Ticket
from perception.kpi.services.compute import compute_kpis
from perception.kpi.services.kpi_values_stamp import Freshness
from perception.kpi.services.kpi_week_sums import (
    keep_week_sums_current,
    refresh_week_sums,
    week_sums_freshness,
)
from perception.kpi.services.ticket_import import ImportOptions
from perception.kpi.services.value_import import import_kpi_values
from tests.kpi.test_kpi_compute import AS_OF, week

__all__ = ["week"]  # the fixture, imported for pytest

HEADER = "kpi,service,region,period,value,n\n"
_KEYS = ("period_start", "definition_id", "service_id", "tier_id", "comparator")
_COUNTS = ("rows", "missed", "met_rows")
_FLOATS = ("weighted_sum", "weights", "target_max", "target_min")


def _rows(session: Any) -> dict[tuple[Any, ...], dict[str, Any]]:
    s = KpiWeekSum.__table__.c
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in session.execute(select(*(s[c] for c in (*_KEYS, *_COUNTS, *_FLOATS)))).mappings():
        key = tuple(row[k] for k in _KEYS)
        assert key not in out, key
        out[key] = dict(row)
    return out


def _same(kept: dict[tuple[Any, ...], dict[str, Any]], fresh: dict[tuple[Any, ...], dict[str, Any]]) -> None:
    assert kept.keys() == fresh.keys()
    for key, row in kept.items():
        other = fresh[key]
        assert [row[c] for c in _COUNTS] == [other[c] for c in _COUNTS], key
        for c in _FLOATS:
            a, b = row[c], other[c]
            assert (a is None and b is None) or math.isclose(a, b, rel_tol=1e-12), (key, c, a, b)


def _check(session: Any) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The sums are current and are what grouping every value from nothing gives."""
    assert week_sums_freshness(session) is Freshness.CURRENT
    kept = _rows(session)
    assert refresh_week_sums(session) is None  # current: nothing to do
    assert refresh_week_sums(session, force=True) == len(kept)
    _same(kept, _rows(session))
    return kept


def _import(session: Any, tmp_path: Path, rows: list[str], name: str) -> None:
    path = tmp_path / name
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    options = ImportOptions(dry_run=False, allow_duplicate=True)
    import_kpi_values(session, options, data=path, filename=path.name)


def test_the_value_import_keeps_the_week_sums(db_session: Any, catalog: Any, tmp_path: Path) -> None:
    db_session.add(
        KpiDefinition(
            code="RING2", name_zh="两声接听率", name_en="Answered by 2nd ring", unit="%", direction="higher",
            default_target=95.0,
        )
    )  # fmt: skip
    db_session.flush()
    rows = [f"RING2,DESK,R{1 + i % 2},2026-W{3 + i // 2:02d},{90 + i % 7},{100 + i}\n" for i in range(12)]
    _import(db_session, tmp_path, rows, "first.csv")
    assert week_sums_freshness(db_session) is Freshness.ABSENT  # never built: the job's
    assert refresh_week_sums(db_session)
    first = _check(db_session)
    # An early week of one region changes, a new series in a week without tickets, and a week past
    # the last.
    more = [
        "RING2,DESK,R1,2026-W03,50,10\n",
        "RING2,NET,R2,2026-W05,70,0\n",
        "RING2,DESK,R2,2026-W11,99,40\n",
    ]
    _import(db_session, tmp_path, more, "second.csv")
    second = _check(db_session)
    assert second != first and len(second) == len(first) + 2
    _import(db_session, tmp_path, ["RING2,DESK,R1,2026-W04,75,5\n"], "third.csv")  # R1 alone
    assert _check(db_session) != second


def test_the_computation_keeps_the_week_sums(db_session: Any, week: Any, org: Any) -> None:
    compute_kpis(db_session, date(2026, 3, 30), date(2026, 4, 6), as_of=AS_OF)
    assert refresh_week_sums(db_session)
    built = _check(db_session)
    assert built
    compute_kpis(db_session, date(2026, 3, 30), date(2026, 4, 13), as_of=AS_OF)  # a later week too
    _check(db_session)
    compute_kpis(db_session, date(2026, 3, 30), date(2026, 4, 6), as_of=AS_OF)  # the same again
    _check(db_session)
    region = org["R1"]["region"].id
    compute_kpis(
        db_session, date(2026, 3, 30), date(2026, 4, 13), as_of=AS_OF, region_ids=frozenset({region})
    )
    _check(db_session)
    # The tickets gone: recomputed, the weeks' computed values are deleted, and their sums with them.
    db_session.execute(delete(Ticket))
    compute_kpis(db_session, date(2026, 3, 30), date(2026, 4, 13), as_of=AS_OF)
    assert db_session.scalar(select(KpiValue.id).where(KpiValue.granularity == "week").limit(1)) is None
    assert _check(db_session) == {}


def test_stale_sums_are_left_to_the_job(db_session: Any, week: Any) -> None:
    compute_kpis(db_session, date(2026, 3, 30), date(2026, 4, 6), as_of=AS_OF)
    assert refresh_week_sums(db_session)
    # Left stale by an earlier transaction (a write no writer hook follows, e.g. a definition
    # deleted with its values): a writer does not make them current, they would miss that write.
    state = db_session.scalar(select(KpiWeekSumState))
    state.signature, state.pending = "dv:-1:0:0", None
    db_session.flush()
    assert week_sums_freshness(db_session) is Freshness.STALE
    compute_kpis(db_session, date(2026, 4, 6), date(2026, 4, 13), as_of=AS_OF)
    assert week_sums_freshness(db_session) is Freshness.STALE
    assert keep_week_sums_current(db_session, date(2026, 4, 6)) is None
    assert refresh_week_sums(db_session)
    _check(db_session)


_WRITES = re.compile(r"\b(?:insert|update|delete)\(\s*(?:KpiValue\b|cast\(Table,\s*KpiValue\.__table__\))")


def test_every_writer_of_kpi_values_keeps_the_week_sums() -> None:
    """A module that writes KPI values (an insert, update or delete of KpiValue) calls
    keep_week_sums_current, as it calls keep_cumulative_current: else the page reads sums that
    miss its writes until the hourly job. The sums' own module reads the values only."""
    root = Path(perception.__file__).parent
    writers = {p for p in root.rglob("*.py") if _WRITES.search(p.read_text(encoding="utf-8"))}
    assert {p.name for p in writers} >= {"compute.py", "value_import.py"}
    for path in writers:
        assert "keep_week_sums_current(" in path.read_text(encoding="utf-8"), path
