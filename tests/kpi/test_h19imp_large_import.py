"""A large ticket import writes with the table's plain indexes set aside and rebuilt (issue 19:
the write of 10,000,000 tickets no longer slows with random inserts into ``(region_id,
opened_at)``). The large path must leave the same table as the small one, update and insert into a
table already holding tickets, and stay all-or-nothing: a bad last row stores nothing, and a
failure after the indexes were dropped gives them back with the rollback. Only SQLite takes the
path (PostgreSQL's DROP INDEX would lock the readers out until the commit); the mechanism is
tested on both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.kpi.models import ImportBatch, Ticket
from perception.kpi.services import bulk as kpi_bulk
from perception.kpi.services import bulk_indexes, ticket_import
from perception.kpi.services.messages import KpiImportError
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from tests.kpi.conftest import csv_bytes, ticket_row

COLUMNS = (
    "external_id", "kind", "service_id", "region_id", "customer_id", "tier_id", "priority", "contact",
    "opened_at", "first_response_at", "resolved_at", "closed_at", "engineer", "status", "reopen_count",
    "transfers",
)  # fmt: skip


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(ticket_import, "CHUNK_ROWS", 3)


@pytest.fixture
def kept_catalog(db_session, catalog):
    """The catalog committed (a SAVEPOINT release), so a test's rollback undoes its imports only."""
    db_session.commit()
    return catalog


@pytest.fixture
def paths_taken(monkeypatch) -> list[bool]:
    """Whether each write set the indexes aside (recorded around the real context manager)."""
    taken: list[bool] = []
    real = kpi_bulk.indexes_set_aside

    def recording(conn: Any, table: str, active: bool = True) -> Any:
        taken.append(active)
        return real(conn, table, active)

    monkeypatch.setattr(kpi_bulk, "indexes_set_aside", recording)
    return taken


def _large(monkeypatch, on: bool) -> None:
    monkeypatch.setattr(kpi_bulk, "worth_setting_aside", lambda conn, table, rows: on)


def _file(tmp_path: Path, rows: list[dict[str, str]], name: str = "tickets.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(csv_bytes(rows))
    return path


def _rows(n: int, prefix: str = "T") -> list[dict[str, str]]:
    """Tickets in an order that is neither the ids' nor (region, opened)'s."""
    out = []
    for i in range(n):
        day = 1 + (i * 7) % 27
        out.append(
            ticket_row(
                f"{prefix}-{(i * 13) % n:03d}",
                region="R1" if i % 3 else "R2",
                customer="R1-C" if i % 3 else "R2-C",
                opened=f"2026-03-{day:02d} 09:{i % 60:02d}",
                first_response=f"2026-03-{day:02d} 10:00",
                resolved=f"2026-03-{day:02d} 11:00" if i % 4 else "",
                closed=f"2026-03-{day:02d} 12:00" if i % 4 else "",
                status="closed" if i % 4 else "open",
            )
        )
    return out


def _table(session) -> list[tuple]:
    columns = [getattr(Ticket, c) for c in COLUMNS]
    return [tuple(r) for r in session.execute(select(*columns).order_by(Ticket.external_id))]


def _count(session, model=Ticket) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _indexes(session) -> list[tuple[str, str]]:
    return bulk_indexes.plain_indexes(session.connection(), "ticket")


def test_the_large_path_leaves_the_table_the_small_path_leaves(
    db_session, kept_catalog, tmp_path, monkeypatch, paths_taken
):
    path = _file(tmp_path, _rows(40))
    indexes = _indexes(db_session)
    assert [name for name, _ in indexes] == ["ix_ticket_region_opened"]
    _large(monkeypatch, False)
    small = import_tickets(db_session, ImportOptions(dry_run=False), data=path)
    expected = _table(db_session)
    db_session.rollback()
    assert _count(db_session) == 0
    _large(monkeypatch, True)
    large = import_tickets(db_session, ImportOptions(dry_run=False), data=path)
    assert paths_taken == [False, True]
    assert (large.rows_new, large.rows_changed) == (small.rows_new, small.rows_changed) == (40, 0)
    assert _table(db_session) == expected and len(expected) == 40
    assert _indexes(db_session) == indexes  # rebuilt as it was


def test_the_large_path_updates_and_inserts_into_a_table_holding_tickets(
    db_session, kept_catalog, tmp_path, monkeypatch, paths_taken
):
    _large(monkeypatch, False)
    import_tickets(db_session, ImportOptions(dry_run=False), data=_file(tmp_path, _rows(12), "first.csv"))
    second = _rows(12)
    second[0]["priority"] = "P1"  # changes T-000
    second[5]["closed"], second[5]["status"] = "", "open"  # changes T-065 % 12 = T-005
    second += _rows(20, prefix="N")  # new
    path = _file(tmp_path, second, "second.csv")

    _large(monkeypatch, False)
    small = import_tickets(db_session, ImportOptions(dry_run=False), data=path)
    expected = _table(db_session)
    db_session.rollback()
    import_tickets(db_session, ImportOptions(dry_run=False), data=_file(tmp_path, _rows(12), "first.csv"))
    _large(monkeypatch, True)
    large = import_tickets(db_session, ImportOptions(dry_run=False, allow_duplicate=True), data=path)
    assert paths_taken[-1] is True
    assert (
        (large.rows_new, large.rows_changed, large.rows_unchanged)
        == (small.rows_new, small.rows_changed, small.rows_unchanged)
        == (20, 2, 10)
    )
    assert _table(db_session) == expected and len(expected) == 32
    row = db_session.execute(select(Ticket.priority).where(Ticket.external_id == "T-000")).scalar_one()
    assert row == "P1"


def test_a_bad_last_row_on_the_large_path_stores_nothing(db_session, catalog, tmp_path, monkeypatch):
    _large(monkeypatch, True)
    rows = _rows(10)
    rows[-1]["service"] = "NOPE"
    with pytest.raises(KpiImportError) as info:
        import_tickets(db_session, ImportOptions(dry_run=False), data=_file(tmp_path, rows))
    assert [(p.row, p.code) for p in info.value.problems] == [(11, "unknown_service")]
    assert _count(db_session) == 0 and _count(db_session, ImportBatch) == 0
    assert [name for name, _ in _indexes(db_session)] == ["ix_ticket_region_opened"]


def test_a_failure_after_the_indexes_were_dropped_rolls_back_with_them(
    db_session, kept_catalog, tmp_path, monkeypatch, paths_taken
):
    _large(monkeypatch, False)
    import_tickets(db_session, ImportOptions(dry_run=False), data=_file(tmp_path, _rows(5), "first.csv"))
    db_session.commit()  # the five tickets stay for the rest of the test
    before, indexes = _table(db_session), _indexes(db_session)
    real = kpi_bulk._upsert
    seen: list[list[tuple[str, str]]] = []

    def failing(conn: Any, batch_id: int, now: Any, table: str) -> tuple[int, int]:
        real(conn, batch_id, now, table)
        seen.append(bulk_indexes.plain_indexes(conn, "ticket"))
        raise RuntimeError("the disk filled up")

    monkeypatch.setattr(kpi_bulk, "_upsert", failing)
    _large(monkeypatch, True)
    with pytest.raises(RuntimeError):
        import_tickets(db_session, ImportOptions(dry_run=False), data=_file(tmp_path, _rows(30, prefix="X")))
    assert seen == [[]]  # the write ran without the index
    db_session.rollback()
    assert _table(db_session) == before and _indexes(db_session) == indexes


def test_only_a_batch_large_beside_the_table_sets_the_indexes_aside(
    db_session, catalog, tmp_path, monkeypatch
):
    monkeypatch.setattr(bulk_indexes, "LARGE_BATCH_ROWS", 10)
    conn = db_session.connection()
    if conn.dialect.name == "postgresql":
        # DROP INDEX would lock every reader of the tickets out until the commit: never there
        assert not bulk_indexes.worth_setting_aside(conn, "ticket", 10**9)
        return
    assert not bulk_indexes.worth_setting_aside(conn, "ticket", 9)  # small
    assert bulk_indexes.worth_setting_aside(conn, "ticket", 10)  # an empty table
    import_tickets(db_session, ImportOptions(dry_run=False), data=_file(tmp_path, _rows(12)))
    stored = db_session.scalar(select(func.max(Ticket.id)))
    assert not bulk_indexes.worth_setting_aside(conn, "ticket", stored - 1)
    assert bulk_indexes.worth_setting_aside(conn, "ticket", max(stored, 10))
