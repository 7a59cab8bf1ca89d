"""KPI value import (CSV/Excel upload or JSON API): one value per KPI x service x region (x tier)
x period, upserted on that key, with its target and attainment resolved from the standards.

Columns: kpi (definition code), service, region, tier (optional), period ("2026-W09", "2026-03",
"2026-Q1" or a date, read as its ISO week), value, n (optional sample size) and target (optional;
without it the target of the standard in force applies, see kpi_targets). Values of definitions
computed from tickets are refused: one KPI has one provenance.

The file (bytes or a path) is read READ_ROWS rows at a time, as the survey-history import reads
its file: each chunk is checked and, while no problem has been found anywhere, written (an
executemany through SQLAlchemy Core) inside a savepoint; a problem in any later chunk rolls the
savepoint back and names its row, column and reason, so the import stays all-or-nothing with memory
that does not grow with the file. A key repeated within a chunk is found there, one repeated
across chunks in a staged table of keys (kpi_key_stage); stored values are looked up per chunk by
their key.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from perception.core.models.base import utcnow
from perception.core.uploads import Source
from perception.kpi.models import (
    Granularity,
    ImportBatch,
    ImportKind,
    KpiDefinition,
    KpiSource,
    KpiValue,
    Provenance,
)
from perception.kpi.services.codebook import Codebook, match_columns
from perception.kpi.services.files import Table as FileTable
from perception.kpi.services.key_stage import KeyStage
from perception.kpi.services.kpi_cumulative import keep_cumulative_current
from perception.kpi.services.kpi_week_sums import keep_week_sums_current
from perception.kpi.services.messages import MAX_PROBLEMS, ProblemList, problem
from perception.kpi.services.targets import TargetBook, met_or_none, share_percent
from perception.kpi.services.ticket_import import (
    ImportOptions,
    ImportResult,
    finish_batch,
    forget_upload,
    keep_upload,
    prepare_batch,
    read_chunks,
    unknown_column_notes,
)
from perception.kpi.services.ticket_parse import whole_count
from perception.kpi.services.ticket_time import parse_period, period_end

VALUE_COLUMNS: dict[str, tuple[str, ...]] = {
    "kpi": ("kpi", "kpi_code", "definition", "指标", "指标代码"),
    "service": ("service", "service_code", "服务", "服务代码"),
    "region": ("region", "region_code", "区域", "地区"),
    "tier": ("tier", "service_tier", "服务等级", "等级"),
    "period": ("period", "week", "month", "期间", "周期"),
    "value": ("value", "数值", "值"),
    "n": ("n", "count", "sample_size", "样本量"),
    "target": ("target", "目标", "目标值"),
}
REQUIRED_VALUE_COLUMNS = ("kpi", "service", "region", "period", "value")
_FIELDS = ("value", "n", "target", "comparator", "met", "standard_version_id")
READ_ROWS = (
    20_000  # rows read, checked and written at a time: the import's memory, whatever the file's length
)
STAGE = KeyStage("kpi_value_key_stage", width=120)


def _number(text: str) -> float | None:
    cleaned = text.strip().rstrip("%％").replace(",", "")
    try:
        return float(cleaned)
    except ValueError:
        return None


def _columns(header: tuple[str, ...], problems: ProblemList) -> dict[str, int]:
    found, _ = match_columns(header, VALUE_COLUMNS)
    for name in REQUIRED_VALUE_COLUMNS:
        if name not in found:
            problems.add(problem(1, VALUE_COLUMNS[name][0], None, "missing_column"))
    return found


@dataclass
class _Lookups:
    """What every chunk is checked and resolved against, loaded once per import."""

    book: Codebook
    definitions: dict[str, KpiDefinition]
    targets: TargetBook

    @classmethod
    def load(cls, session: Session) -> _Lookups:
        definitions = {d.code.upper(): d for d in session.scalars(select(KpiDefinition))}
        return cls(Codebook.load(session), definitions, TargetBook.load(session))


def _parse(
    table: FileTable,
    found: dict[str, int],
    lookups: _Lookups,
    options: ImportOptions,
    problems: ProblemList,
    seen: dict[str, int],
) -> list[dict[str, Any]]:
    """The chunk's valid rows (each with its ``row_no``); problems go to ``problems``. ``seen``
    maps each key of this chunk to its first row (a key repeated within the chunk is flagged)."""
    book, definitions = lookups.book, lookups.definitions

    def cell(name: str, i: int) -> str:
        return table.columns[found[name]][i].strip() if name in found else ""

    def bad(name: str, i: int, code: str, **kw: Any) -> None:
        problems.add(problem(table.row_no(i), table.header[found[name]], cell(name, i), code, **kw))

    rows: list[dict[str, Any]] = []
    for i in range(table.n_rows):
        definition = definitions.get(cell("kpi", i).upper())
        if definition is None:
            bad("kpi", i, "unknown_kpi" if cell("kpi", i) else "required")
        elif definition.source == KpiSource.TICKETS:
            bad("kpi", i, "computed_kpi")
        service = book.services.get(cell("service", i).upper())
        if service is None:
            bad("service", i, "unknown_service" if cell("service", i) else "required")
        region = book.regions.get(cell("region", i).upper())
        if region is None:
            bad("region", i, "unknown_region" if cell("region", i) else "required")
        elif options.allowed_regions is not None and region not in options.allowed_regions:
            bad("region", i, "region_forbidden")
        tier = book.tiers.get(cell("tier", i).upper()) if cell("tier", i) else None
        if cell("tier", i) and tier is None:
            bad("tier", i, "unknown_tier")
        period = parse_period(cell("period", i))
        if period is None:
            bad("period", i, "bad_period" if cell("period", i) else "required")
        value = _number(cell("value", i))
        if value is None:
            bad("value", i, "bad_number" if cell("value", i) else "required")
        n = cell("n", i)
        if n and whole_count(n) is None:
            bad("n", i, "bad_integer")
        target = _number(cell("target", i)) if cell("target", i) else None
        if cell("target", i) and target is None:
            bad("target", i, "bad_number")
        if definition is None or service is None or region is None or period is None:
            continue
        key = f"{definition.id}|{service}|{region}|{tier or 0}|{period[1]}|{period[0].isoformat()}"
        if key in seen:
            bad("kpi", i, "duplicate_key", other=seen[key])
        else:
            seen[key] = table.row_no(i)
        rows.append(
            {
                "definition": definition,
                "definition_id": definition.id,
                "service_id": service,
                "region_id": region,
                "tier_id": tier,
                "tier_key": tier or 0,
                "granularity": period[1],
                "period_start": period[0],
                "period_end": period_end(period[0], period[1]),
                "value": value,
                "n": whole_count(n) if n else None,
                "target": target,
            }
        )
    return rows


def _resolve_targets(book: TargetBook, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        definition: KpiDefinition = row.pop("definition")
        comparator = definition.comparator
        version_id = None
        if row["target"] is None:
            version = book.group_target(
                definition.metric,
                definition.standard_id,
                row["service_id"],
                row["tier_id"],
                row["period_start"],
            )
            if version is not None:
                target = version.target
                if target is not None and definition.unit in ("%", "％"):
                    target = share_percent(target, version.unit)  # a 0.96 ratio target is 96 %
                row["target"], comparator, version_id = target, version.comparator, version.version_id
            elif definition.default_target is not None:
                row["target"] = definition.default_target
        row["comparator"] = comparator
        row["standard_version_id"] = version_id
        row["met"] = met_or_none(row["value"], row["target"], comparator)


def _sort(
    existing: dict[tuple[Any, ...], tuple[int, tuple[Any, ...]]],
    rows: list[dict[str, Any]],
    sample: list[dict],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(new rows, changed rows with their ``value_id``); unchanged rows are left out."""
    new_rows: list[dict[str, Any]] = []
    changed_rows: list[dict[str, Any]] = []
    for row in rows:
        key = _key(row)
        if key not in existing:
            new_rows.append(row)
            continue
        value_id, stored = existing[key]
        if stored != tuple(row[f] for f in _FIELDS):
            changed_rows.append({**row, "value_id": value_id})
            if len(sample) < 20:
                sample.append(
                    {"row": None, "external_id": None, "changes": {"value": (stored[0], row["value"])}}
                )
    return new_rows, changed_rows


def _write(
    session: Session, batch_id: int, new_rows: list[dict[str, Any]], changed_rows: list[dict[str, Any]]
) -> None:
    common = {"provenance": Provenance.IMPORTED, "batch_id": batch_id, "stored_at": utcnow()}
    if new_rows:
        session.execute(insert(KpiValue), [{**r, **common} for r in new_rows])
    if changed_rows:
        stmt = (
            update(KpiValue)
            .where(KpiValue.id == bindparam("value_id"))
            .values({f: bindparam(f) for f in (*_FIELDS, "provenance", "batch_id", "stored_at")})
        )
        session.connection().execute(
            stmt,
            [{**{f: r[f] for f in _FIELDS}, **common, "value_id": r["value_id"]} for r in changed_rows],
        )


def import_kpi_values(
    session: Session,
    options: ImportOptions,
    *,
    data: Source | None = None,
    items: Any = None,
    filename: str | None = None,
    batch: ImportBatch | None = None,
) -> ImportResult:
    """Validate and (unless a dry run) upsert KPI values; all-or-nothing like import_tickets.
    Raises KpiImportError naming every problem (row, column, value); nothing is stored then.
    Flushes, never commits. The file is read in chunks (see the module docstring)."""
    started = time.perf_counter()
    source, chunks = read_chunks(data, items, options, READ_ROWS)
    problems = ProblemList(source.header)
    found = _columns(source.header, problems)
    problems.raise_if_any()
    lookups = _Lookups.load(session)
    conn = session.connection()
    STAGE.create(conn)
    _LOOKUP.drop(conn, checkfirst=True)
    _LOOKUP.create(conn)
    total = new_count = changed_count = 0
    since: date | None = None
    regions: set[int] = set()
    sample: list[dict[str, Any]] = []
    file_format, encoding = source.file_format, source.encoding

    def the_batch() -> tuple[ImportBatch, int | None]:
        return prepare_batch(
            session, ImportKind.KPI_VALUES, options, filename=filename, file_format=file_format,
            encoding=encoding, digest=source.digest, size=source.size, batch=batch,
        )  # fmt: skip

    try:
        # A savepoint: a problem found in a later chunk undoes the chunks written before it.
        with nullcontext() if options.dry_run else session.begin_nested():
            # Applying: the batch (refused if the same file was applied before) comes first, as
            # every written value names it; a dry run writes nothing and records it at the end.
            written = None if options.dry_run else the_batch()
            for table in chunks:
                file_format, encoding = table.file_format, table.encoding
                seen: dict[str, int] = {}
                rows = _parse(table, found, lookups, options, problems, seen)
                STAGE.add(conn, seen.items())
                del table, seen
                if problems:  # keep checking (every problem is named), stop writing
                    continue
                _resolve_targets(lookups.targets, rows)
                new_rows, changed_rows = _sort(_existing(session, rows), rows, sample)
                total += len(rows)
                new_count += len(new_rows)
                changed_count += len(changed_rows)
                if written is not None:
                    _write(session, written[0].id, new_rows, changed_rows)
                    weekly = [r for r in (*new_rows, *changed_rows) if r["granularity"] == Granularity.WEEK]
                    if weekly:  # the weeks and regions whose running sums change (issue 19)
                        since = min(since or date.max, *(r["period_start"] for r in weekly))
                        regions.update(r["region_id"] for r in weekly)
                del rows, new_rows, changed_rows
            repeats, repeated = STAGE.repeats(conn, MAX_PROBLEMS)
            heading = source.header[found["kpi"]]
            for row_no, _key_text, first in repeats:
                problems.add(problem(row_no, heading, None, "duplicate_key", other=first))
            problems.count += repeated - len(repeats)
            problems.raise_if_any()
    finally:
        STAGE.drop(conn)
        _LOOKUP.drop(conn, checkfirst=True)
    if written is not None:  # the last write of KPI values here (kpi.services.kpi_cumulative)
        keep_cumulative_current(session, since, regions)
        keep_week_sums_current(session, since)
    batch, duplicate = written if written is not None else the_batch()
    finish_batch(session, batch, options, (total, new_count, changed_count), started)
    keep_upload(options, source.digest, data)
    if not options.dry_run:
        forget_upload(options, batch)
    return ImportResult(
        batch_id=batch.id,
        kind=ImportKind.KPI_VALUES,
        dry_run=options.dry_run,
        rows_total=total,
        rows_new=new_count,
        rows_changed=changed_count,
        rows_unchanged=total - new_count - changed_count,
        file_format=file_format,
        encoding=encoding,
        seconds=time.perf_counter() - started,
        duplicate_of=duplicate,
        sample=tuple(sample),
        notes=unknown_column_notes(FileTable(source.header, (), 0, "", None), VALUE_COLUMNS),
    )


_KEY = ("definition_id", "service_id", "region_id", "tier_key", "granularity", "period_start")


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[name] for name in _KEY)


# The chunk's keys, staged so that stored values are found through the table's unique key: a row-value
# IN (...) list made SQLite scan the whole table once per lookup (quadratic in the values stored).
_LOOKUP = Table(
    "kpi_value_key_lookup",
    MetaData(),
    Column("definition_id", Integer),
    Column("service_id", Integer),
    Column("region_id", Integer),
    Column("tier_key", Integer),
    Column("granularity", String(8)),
    Column("period_start", Date),
    prefixes=["TEMPORARY"],
)


def _existing(
    session: Session, rows: list[dict[str, Any]]
) -> dict[tuple[Any, ...], tuple[int, tuple[Any, ...]]]:
    """key -> (value id, stored fields) of the chunk's keys that are stored (joined on the key, so a
    chunk reads its own values, not every value of its periods)."""
    conn = session.connection()
    conn.execute(delete(_LOOKUP))
    keys = list({_key(r) for r in rows})
    if not keys:
        return {}
    conn.execute(insert(_LOOKUP), [dict(zip(_KEY, key, strict=True)) for key in keys])
    key_columns = [getattr(KpiValue, name) for name in _KEY]
    stmt = select(KpiValue.id, *key_columns, *(getattr(KpiValue, f) for f in _FIELDS)).join(
        _LOOKUP, and_(*(column == _LOOKUP.c[name] for column, name in zip(key_columns, _KEY, strict=True)))
    )
    return {tuple(r[1:7]): (r[0], tuple(r[7:])) for r in conn.execute(stmt)}
