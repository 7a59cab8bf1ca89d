"""KPI value import (CSV/Excel upload or JSON API): one value per KPI x service x region (x tier)
x period, upserted on that key, with its target and attainment resolved from the standards.

Columns: kpi (definition code), service, region, tier (optional), period ("2026-W09", "2026-03",
"2026-Q1" or a date, read as its ISO week), value, n (optional sample size) and target (optional;
without it the target of the standard in force applies, see kpi_targets). Values of definitions
computed from tickets are refused: one KPI has one provenance. Volumes are small (thousands), so the
write is a plain executemany through SQLAlchemy Core.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from perception.core.models.base import utcnow
from perception.core.uploads import Source
from perception.kpi.models import ImportBatch, ImportKind, KpiDefinition, KpiSource, KpiValue, Provenance
from perception.kpi.services.codebook import Codebook, match_columns
from perception.kpi.services.files import Table
from perception.kpi.services.messages import ProblemList, problem
from perception.kpi.services.targets import TargetBook, met_or_none, share_percent
from perception.kpi.services.ticket_import import (
    ImportOptions,
    ImportResult,
    finish_batch,
    forget_upload,
    keep_upload,
    load_source,
    prepare_batch,
    unknown_column_notes,
)
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


def _number(text: str) -> float | None:
    cleaned = text.strip().rstrip("%％").replace(",", "")
    try:
        return float(cleaned)
    except ValueError:
        return None


def _parse(
    session: Session, table: Table, options: ImportOptions, problems: ProblemList
) -> list[dict[str, Any]]:
    found, _ = match_columns(table.header, VALUE_COLUMNS)
    for name in REQUIRED_VALUE_COLUMNS:
        if name not in found:
            problems.add(problem(1, VALUE_COLUMNS[name][0], None, "missing_column"))
    if problems:
        return []
    book = Codebook.load(session)
    definitions = {d.code.upper(): d for d in session.scalars(select(KpiDefinition))}

    def cell(name: str, i: int) -> str:
        return table.columns[found[name]][i].strip() if name in found else ""

    def bad(name: str, i: int, code: str, **kw: Any) -> None:
        problems.add(problem(table.row_no(i), table.header[found[name]], cell(name, i), code, **kw))

    rows: list[dict[str, Any]] = []
    seen: dict[tuple[Any, ...], int] = {}
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
        if n and not n.isdigit():
            bad("n", i, "bad_integer")
        target = _number(cell("target", i)) if cell("target", i) else None
        if cell("target", i) and target is None:
            bad("target", i, "bad_number")
        if definition is None or service is None or region is None or period is None:
            continue
        key = (definition.id, service, region, tier or 0, period[1], period[0])
        if key in seen:
            bad("kpi", i, "duplicate_key", other=table.row_no(seen[key]))
        seen.setdefault(key, i)
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
                "n": int(n) if n.isdigit() else None,
                "target": target,
            }
        )
    return rows


def _resolve_targets(session: Session, rows: list[dict[str, Any]]) -> None:
    book = TargetBook.load(session)
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


def import_kpi_values(
    session: Session,
    options: ImportOptions,
    *,
    data: Source | None = None,
    items: Any = None,
    filename: str | None = None,
    batch: ImportBatch | None = None,
) -> ImportResult:
    """Validate and (unless a dry run) upsert KPI values; all-or-nothing like import_tickets."""
    started = time.perf_counter()
    table, digest, size = load_source(data, items, options)
    problems = ProblemList()
    rows = _parse(session, table, options, problems)
    problems.raise_if_any()
    batch, duplicate = prepare_batch(
        session,
        ImportKind.KPI_VALUES,
        options,
        filename=filename,
        file_format=table.file_format,
        encoding=table.encoding,
        digest=digest,
        size=size,
        batch=batch,
    )
    _resolve_targets(session, rows)
    existing = _existing(session, rows)
    new_rows: list[dict[str, Any]] = []
    changed_rows: list[dict[str, Any]] = []
    sample: list[dict[str, Any]] = []
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
    if not options.dry_run:
        now = utcnow()
        common = {"provenance": Provenance.IMPORTED, "batch_id": batch.id, "stored_at": now}
        if new_rows:
            session.execute(insert(KpiValue), [{**r, **common} for r in new_rows])
        if changed_rows:
            stmt = (
                update(KpiValue)
                .where(KpiValue.id == bindparam("value_id"))
                .values({f: bindparam(f) for f in (*_FIELDS, "provenance", "batch_id", "stored_at")})
            )
            conn = session.connection()
            conn.execute(
                stmt,
                [{**{f: r[f] for f in _FIELDS}, **common, "value_id": r["value_id"]} for r in changed_rows],
            )
    counts = (len(rows), len(new_rows), len(changed_rows))
    finish_batch(session, batch, options, counts, started)
    keep_upload(options, digest, data)
    if not options.dry_run:
        forget_upload(options, batch)
    return ImportResult(
        batch_id=batch.id,
        kind=ImportKind.KPI_VALUES,
        dry_run=options.dry_run,
        rows_total=len(rows),
        rows_new=len(new_rows),
        rows_changed=len(changed_rows),
        rows_unchanged=len(rows) - len(new_rows) - len(changed_rows),
        file_format=table.file_format,
        encoding=table.encoding,
        seconds=time.perf_counter() - started,
        duplicate_of=duplicate,
        sample=tuple(sample),
        notes=unknown_column_notes(table, VALUE_COLUMNS),
    )


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["definition_id"],
        row["service_id"],
        row["region_id"],
        row["tier_key"],
        row["granularity"],
        row["period_start"],
    )


def _existing(
    session: Session, rows: list[dict[str, Any]]
) -> dict[tuple[Any, ...], tuple[int, tuple[Any, ...]]]:
    if not rows:
        return {}
    first: date = min(r["period_start"] for r in rows)
    last: date = max(r["period_start"] for r in rows)
    stmt = select(
        KpiValue.id,
        KpiValue.definition_id,
        KpiValue.service_id,
        KpiValue.region_id,
        KpiValue.tier_key,
        KpiValue.granularity,
        KpiValue.period_start,
        *(getattr(KpiValue, f) for f in _FIELDS),
    ).where(
        KpiValue.definition_id.in_({r["definition_id"] for r in rows}),
        KpiValue.period_start >= first,
        KpiValue.period_start <= last,
    )
    return {tuple(r[1:7]): (r[0], tuple(r[7:])) for r in session.execute(stmt)}
