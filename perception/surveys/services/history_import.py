"""Importing past survey answers into a campaign: file or API batch -> every row checked -> dry run or
all-or-nothing write, through the ticket import's machinery (ImportBatch, dry-run upload kept until
applied, one audit entry per applied batch).

A response's source id is its idempotency key: it is stored as the submission nonce
``import:<source id>`` under the campaign's unique (campaign, nonce) key, so importing the same
file again stores nothing new (rows count as unchanged), and a corrected file updates the responses
whose content changed. Imported answers are written to the same analysis facts (observations and
comment texts, observed on the day they were given) as live answers, so every page, trend and review
period sees them. They raise no follow-up task: a months-old low score is history, not a call to
make today. Responses are inserted set-wise (a 100,000-row file is one statement per few thousand
rows), never one by one, and the file is read in chunks (a path is never held whole). The facts it
writes and withdraws are declared for their weeks (data_version.week_write), so the analysis
pre-aggregates read and rebuild those weeks alone, not every week.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from perception.core.models.facts import ExperienceObservation, ExperienceSource, TextEntry
from perception.core.uploads import Source
from perception.kpi.models import ImportBatch
from perception.kpi.services.data_version import week_write
from perception.kpi.services.files import Table
from perception.kpi.services.messages import MAX_PROBLEMS, ProblemList
from perception.kpi.services.nul_cells import take_nul_cells
from perception.kpi.services.ticket_import import (
    ImportOptions,
    ImportResult,
    finish_batch,
    forget_upload,
    keep_upload,
    prepare_batch,
    read_chunks,
)
from perception.surveys.models import Campaign, Channel, Response, table_of
from perception.surveys.services import history_stage
from perception.surveys.services.definitions import questionnaire_of
from perception.surveys.services.facts import Attribution, observation_rows, source_for, text_rows
from perception.surveys.services.history_bulk import insert_rows
from perception.surveys.services.history_columns import read_layout
from perception.surveys.services.history_rows import (
    NONCE_PREFIX,
    HistoryRow,
    Target,
    check_header,
    own,
    parse_rows,
)
from perception.surveys.services.store import Scored, score
from surveys import Questionnaire

KIND = "responses"  # ImportBatch.kind
CHUNK = 2000  # rows per INSERT statement
READ_ROWS = 50_000  # rows read and checked at a time: the import's memory, whatever the file's length
_IN = 900  # values per IN (...) lookup
_RESP = table_of(Response)
_FIELDS = ("submitted_at", "language", "means", "region_id", "customer_id", "service_id", "tier_id",
           "ticket_id", "contact_id")  # fmt: skip


def _fingerprint(answers: Any, values: Iterable[Any]) -> str:
    return json.dumps(
        [answers, [str(v) if v is not None else None for v in values]], sort_keys=True, default=str
    )


def _row_values(row: HistoryRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _FIELDS}


def _existing(session: Session, campaign_id: int, nonces: list[str]) -> dict[str, tuple[int, str]]:
    """nonce -> (response id, fingerprint) of the given imported responses of the campaign."""
    cols = [getattr(_RESP.c, name) for name in _FIELDS]
    out: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(nonces, _IN):
        stmt = select(_RESP.c.id, _RESP.c.submission_nonce, _RESP.c.answers, *cols).where(
            _RESP.c.campaign_id == campaign_id, _RESP.c.submission_nonce.in_(chunk)
        )
        out.update(
            (nonce, (rid, _fingerprint(answers, rest)))
            for rid, nonce, answers, *rest in session.execute(stmt)
        )
    return out


def _facts(questionnaire: Questionnaire, rows: list[tuple[int, HistoryRow]]) -> tuple[list[dict], list[dict]]:
    observations: list[dict[str, Any]] = []
    texts: list[dict[str, Any]] = []
    memo: dict[int, Scored] = {}  # rows with the same cells share one answers object (RowReader)
    for response_id, row in rows:
        scored = memo.get(id(row.answers))
        if scored is None:
            scored = memo[id(row.answers)] = score(questionnaire, row.answers)
        who = Attribution(
            row.region_id, row.customer_id, row.service_id, row.tier_id, row.ticket_id, row.contact_id
        )
        source = source_for(row.means)
        observations += observation_rows(scored.items, response_id, row.observed_on, who, source)
        texts += text_rows(scored.texts, response_id, row.observed_on, who, source)
    return observations, texts


def _chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _write(
    session: Session, campaign: Campaign, questionnaire: Questionnaire,
    new: list[HistoryRow], changed: list[tuple[int, HistoryRow]], timezone: str,
) -> None:  # fmt: skip
    conn = session.connection()
    base = {"campaign_id": campaign.id, "version_id": campaign.version_id, "invitation_id": None,
            "recorded_by_id": None}  # fmt: skip
    for chunk in _chunks(new):
        rows = [{**base, **_row_values(r), "answers": r.answers, "submission_nonce": r.nonce,
                 "observed_on": r.observed_on} for r in chunk]  # fmt: skip
        insert_rows(conn, _RESP, rows)
    ids: dict[str, int] = {}
    for nonces in _chunks([r.nonce for r in new], _IN):
        found = conn.execute(
            select(_RESP.c.submission_nonce, _RESP.c.id).where(
                _RESP.c.campaign_id == campaign.id, _RESP.c.submission_nonce.in_(nonces)
            )
        ).all()
        ids.update((nonce, rid) for nonce, rid in found)
    pairs = [(ids[r.nonce], r) for r in new] + changed
    observations, texts = _facts(questionnaire, pairs)
    # The facts' rows written and withdrawn here are of these weeks alone, declared so: the
    # pre-aggregates then read those weeks from the facts and the refresh rebuilds them, the other
    # weeks stay theirs (data_version.week_write; undeclared, an import made them all stale).
    weeks = {row["period_start"] for row in observations} | _weeks_of(conn, [rid for rid, _ in changed])
    if changed:
        stmt = update(_RESP).where(_RESP.c.id == bindparam("rid")).values(
            answers=bindparam("answers"), observed_on=bindparam("observed_on"),
            **{name: bindparam(name) for name in _FIELDS},
        )  # fmt: skip
        changed_ids = [rid for rid, _ in changed]
        for chunk in _chunks(changed):
            conn.execute(
                stmt,
                [
                    {"rid": rid, "answers": r.answers, "observed_on": r.observed_on, **_row_values(r)}
                    for rid, r in chunk
                ],
            )
        with _declared(conn, weeks, timezone):
            for table in (table_of(ExperienceObservation), table_of(TextEntry)):
                for ids_chunk in _chunks(changed_ids):
                    conn.execute(
                        delete(table).where(
                            table.c.source.in_((ExperienceSource.SURVEY, ExperienceSource.CALLBACK)),
                            table.c.source_id.in_(ids_chunk),
                        )
                    )
    with _declared(conn, weeks, timezone):
        for table, rows in ((table_of(ExperienceObservation), observations), (table_of(TextEntry), texts)):
            for chunk in _chunks(rows):
                insert_rows(conn, table, chunk)


def _weeks_of(conn: Any, response_ids: list[int]) -> set[date]:
    """The weeks the facts of these (imported, so survey or callback) responses are in now."""
    table = table_of(ExperienceObservation)
    weeks: set[date] = set()
    for chunk in _chunks(response_ids, _IN):
        weeks.update(
            conn.scalars(
                select(table.c.period_start)
                .where(
                    table.c.source.in_((ExperienceSource.SURVEY, ExperienceSource.CALLBACK)),
                    table.c.source_id.in_(chunk),
                )
                .distinct()
            )
        )
    return weeks


def _declared(conn: Any, weeks: set[date], timezone: str) -> AbstractContextManager[None]:
    """The facts written inside are rows of ``weeks`` alone (data_version.week_write; the weeks of
    the organisation's ``timezone``, as the answers' days are), or none."""
    return week_write(conn, "experience_observation", weeks, timezone) if weeks else nullcontext()


def import_responses(
    session: Session,
    campaign: Campaign,
    options: ImportOptions,
    *,
    org_timezone: str,
    data: Source | None = None,
    items: Any = None,
    filename: str | None = None,
    batch: ImportBatch | None = None,
) -> ImportResult:
    """Check every row against ``campaign``'s questionnaire and (unless a dry run) store the new and
    changed responses with their facts. Raises KpiImportError naming every problem (row, column,
    value); nothing is stored then. Flushes, never commits.

    The file (bytes or a path) is read in chunks of READ_ROWS rows: each is checked and, while no
    problem has been found anywhere, written inside a savepoint; a problem in any later chunk
    rolls the savepoint back, so the import stays all-or-nothing with memory that does not grow
    with the file (source ids repeated across chunks are found in history_stage)."""
    started = time.perf_counter()
    source, chunks = read_chunks(data, items, options, READ_ROWS)
    questionnaire = questionnaire_of(campaign.version)
    layout = read_layout(source.header, questionnaire)
    target = Target(
        campaign_id=campaign.id,
        version_id=campaign.version_id,
        anonymous=campaign.channel == Channel.ANONYMOUS,
        region_id=campaign.region_id,
        customer_id=campaign.customer_id,
        service_id=campaign.service_id,
        tier_id=campaign.tier_id,
        org_timezone=org_timezone,
        allowed_regions=options.allowed_regions,
    )
    problems = ProblemList(source.header)
    check_header(Table(source.header, (), 0, source.file_format, source.encoding), layout, target, problems)
    problems.raise_if_any()
    conn = session.connection()
    history_stage.create(conn)
    total = new_count = changed_count = 0
    sample: list[dict[str, Any]] = []
    file_format, encoding = source.file_format, source.encoding
    try:
        # A savepoint: a problem found in a later chunk undoes the chunks written before it.
        with nullcontext() if options.dry_run else session.begin_nested():
            for table in chunks:
                file_format, encoding = table.file_format, table.encoding
                seen: dict[str, int] = {}
                take_nul_cells(table, problems)  # before any cell is read: a NUL is its row's problem
                rows = parse_rows(session, table, layout, questionnaire, target, problems, seen=seen)
                history_stage.add(conn, seen.items())
                del table, seen
                if problems:  # keep checking (every problem is named), stop writing
                    continue
                stored = _existing(session, campaign.id, [row.nonce for row in rows])
                new: list[HistoryRow] = []
                changed: list[tuple[int, HistoryRow]] = []
                for row in rows:
                    found = stored.get(row.nonce)
                    if found is None:
                        new.append(row)
                    elif found[1] != _fingerprint(row.answers, _row_values(row).values()):
                        changed.append((found[0], row))
                total += len(rows)
                new_count += len(new)
                changed_count += len(changed)
                sample += [{"row": r.row, "external_id": r.nonce[len(NONCE_PREFIX) :], "changes": ["answers"]}
                           for _, r in changed[: 20 - len(sample)]]  # fmt: skip
                if not options.dry_run:
                    _write(session, campaign, questionnaire, new, changed, org_timezone)
                del rows, new, changed, stored
            repeats, repeated = history_stage.repeats(conn, MAX_PROBLEMS)
            column = source.header[layout.meta["source_id"]]
            for row_no, source_id, first in repeats:
                problems.add(own(row_no, column, source_id, "duplicate_source", other=first))
            problems.count += repeated - len(repeats)
            problems.raise_if_any()
    finally:
        history_stage.drop(conn)
    # The same file again is not refused: the source ids make it change nothing, which is said.
    batch, duplicate = prepare_batch(
        session, KIND, replace(options, allow_duplicate=True), filename=filename,
        file_format=file_format, encoding=encoding, digest=source.digest, size=source.size, batch=batch,
    )  # fmt: skip
    finish_batch(session, batch, options, (total, new_count, changed_count), started)
    keep_upload(options, source.digest, data)
    if not options.dry_run:
        forget_upload(options, batch)
    return ImportResult(
        batch_id=batch.id,
        kind=KIND,
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
        notes=(),
    )
