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
rows), never one by one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from perception.core.models.facts import ExperienceObservation, ExperienceSource, TextEntry
from perception.kpi.models import ImportBatch
from perception.kpi.services.messages import ProblemList
from perception.kpi.services.ticket_import import (
    ImportOptions,
    ImportResult,
    finish_batch,
    forget_upload,
    keep_upload,
    load_source,
    prepare_batch,
)
from perception.surveys.models import Campaign, Channel, Response, table_of
from perception.surveys.services.definitions import questionnaire_of
from perception.surveys.services.facts import Attribution, observation_rows, source_for, text_rows
from perception.surveys.services.history_bulk import insert_rows
from perception.surveys.services.history_columns import read_layout
from perception.surveys.services.history_rows import (
    NONCE_PREFIX,
    HistoryRow,
    Target,
    check_header,
    parse_rows,
)
from perception.surveys.services.store import Scored, score
from surveys import Questionnaire

KIND = "responses"  # ImportBatch.kind
CHUNK = 2000
_RESP = table_of(Response)
_FIELDS = ("submitted_at", "language", "means", "region_id", "customer_id", "service_id", "tier_id",
           "ticket_id", "contact_id")  # fmt: skip


def _fingerprint(answers: Any, values: Iterable[Any]) -> str:
    return json.dumps(
        [answers, [str(v) if v is not None else None for v in values]], sort_keys=True, default=str
    )


def _row_values(row: HistoryRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _FIELDS}


def _existing(session: Session, campaign_id: int) -> dict[str, tuple[int, str]]:
    """nonce -> (response id, fingerprint) of the campaign's imported responses."""
    cols = [getattr(_RESP.c, name) for name in _FIELDS]
    stmt = select(_RESP.c.id, _RESP.c.submission_nonce, _RESP.c.answers, *cols).where(
        _RESP.c.campaign_id == campaign_id, _RESP.c.submission_nonce.like(NONCE_PREFIX + "%")
    )
    return {nonce: (rid, _fingerprint(answers, rest)) for rid, nonce, answers, *rest in session.execute(stmt)}


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


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _write(
    session: Session, campaign: Campaign, questionnaire: Questionnaire,
    new: list[HistoryRow], changed: list[tuple[int, HistoryRow]],
) -> None:  # fmt: skip
    conn = session.connection()
    base = {"campaign_id": campaign.id, "version_id": campaign.version_id, "invitation_id": None,
            "recorded_by_id": None}  # fmt: skip
    for chunk in _chunks(new):
        rows = [{**base, **_row_values(r), "answers": r.answers, "submission_nonce": r.nonce,
                 "observed_on": r.observed_on} for r in chunk]  # fmt: skip
        insert_rows(conn, _RESP, rows)
    ids = dict(
        conn.execute(
            select(_RESP.c.submission_nonce, _RESP.c.id).where(
                _RESP.c.campaign_id == campaign.id, _RESP.c.submission_nonce.like(NONCE_PREFIX + "%")
            )
        ).all()
    )
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
        for table in (table_of(ExperienceObservation), table_of(TextEntry)):
            for ids_chunk in _chunks(changed_ids):
                conn.execute(
                    delete(table).where(
                        table.c.source.in_((ExperienceSource.SURVEY, ExperienceSource.CALLBACK)),
                        table.c.source_id.in_(ids_chunk),
                    )
                )
    pairs = [(ids[r.nonce], r) for r in new] + changed
    observations, texts = _facts(questionnaire, pairs)
    for table, rows in ((table_of(ExperienceObservation), observations), (table_of(TextEntry), texts)):
        for chunk in _chunks(rows):
            insert_rows(conn, table, chunk)


def import_responses(
    session: Session,
    campaign: Campaign,
    options: ImportOptions,
    *,
    org_timezone: str,
    data: bytes | None = None,
    items: Any = None,
    filename: str | None = None,
    batch: ImportBatch | None = None,
) -> ImportResult:
    """Check every row against ``campaign``'s questionnaire and (unless a dry run) store the new and
    changed responses with their facts. Raises KpiImportError naming every problem (row, column,
    value); nothing is stored then. Flushes, never commits."""
    started = time.perf_counter()
    table, digest, size = load_source(data, items, options)
    questionnaire = questionnaire_of(campaign.version)
    layout = read_layout(table.header, questionnaire)
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
    problems = ProblemList()
    check_header(table, layout, target, problems)
    problems.raise_if_any()
    rows = parse_rows(session, table, layout, questionnaire, target, problems)
    problems.raise_if_any()
    # The same file again is not refused: the source ids make it change nothing, which is said.
    batch, duplicate = prepare_batch(
        session, KIND, replace(options, allow_duplicate=True), filename=filename,
        file_format=table.file_format, encoding=table.encoding, digest=digest, size=size, batch=batch,
    )  # fmt: skip
    stored = _existing(session, campaign.id)
    new: list[HistoryRow] = []
    changed: list[tuple[int, HistoryRow]] = []
    for row in rows:
        found = stored.get(row.nonce)
        if found is None:
            new.append(row)
        elif found[1] != _fingerprint(row.answers, _row_values(row).values()):
            changed.append((found[0], row))
    if not options.dry_run:
        _write(session, campaign, questionnaire, new, changed)
    total = len(rows)
    finish_batch(session, batch, options, (total, len(new), len(changed)), started)
    keep_upload(options, digest, data)
    if not options.dry_run:
        forget_upload(options, batch)
    return ImportResult(
        batch_id=batch.id,
        kind=KIND,
        dry_run=options.dry_run,
        rows_total=total,
        rows_new=len(new),
        rows_changed=len(changed),
        rows_unchanged=total - len(new) - len(changed),
        file_format=table.file_format,
        encoding=table.encoding,
        seconds=time.perf_counter() - started,
        duplicate_of=duplicate,
        sample=tuple({"row": r.row, "external_id": r.nonce[len(NONCE_PREFIX) :], "changes": ["answers"]}
                     for _, r in changed[:20]),
        notes=(),
    )  # fmt: skip
