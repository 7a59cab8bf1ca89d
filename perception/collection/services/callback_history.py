"""Importing past phone callbacks with their outcomes into a callback campaign.

One row per call: ``source_id`` (the call's id in the old tool: the idempotency key), ``called_at``
(the organisation's wall-clock time unless it has an offset), ``outcome`` (completed, no_answer,
refused, wrong_number), and optionally customer, service, ticket (external id), contact_name, phone,
engineer, note, and for a completed call the answers of the campaign's callback script (one column
per question id, as the survey history import reads them). A completed call's answers are checked
by the same questionnaire validator and written as a callback response on the day of the call into
the same facts as a call recorded live; past calls raise no follow-up task.

Re-importing a source id with the same content changes nothing; with a different content the
task's attempt and response are written again. All-or-nothing with a dry run, as every import.

The file (bytes or a path) is read READ_ROWS rows at a time, as the survey-history import reads
its file: each chunk is checked and, while no problem has been found anywhere, written inside a
savepoint; a problem in any later chunk rolls the savepoint back and names its row, column and
reason, so nothing is stored and memory does not grow with the file. Source ids repeated across
chunks are found in a staged table (kpi_key_stage); stored tasks are looked up per chunk.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from perception.collection.models.fieldwork import (
    CallbackAttempt,
    CallbackCampaign,
    CallbackOutcome,
    CallbackTask,
)
from perception.core.models.facts import ExperienceObservation, TextEntry
from perception.core.uploads import Source
from perception.kpi.models import ImportBatch
from perception.kpi.services.data_version import week_write
from perception.kpi.services.files import Table
from perception.kpi.services.key_stage import KeyStage
from perception.kpi.services.messages import MAX_PROBLEMS, ImportProblem, ProblemList, problem
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
from perception.surveys.models import Response, ResponseMeans, SurveyVersion, table_of
from perception.surveys.services.definitions import questionnaire_of
from perception.surveys.services.facts import Attribution
from perception.surveys.services.followup import Thresholds
from perception.surveys.services.history_columns import META, Layout, read_layout
from perception.surveys.services.history_rows import HistoryRow, Target, check_header, own, parse_rows
from perception.surveys.services.store import write_response
from surveys import Questionnaire

KIND = "callbacks"
READ_ROWS = (
    20_000  # calls read, checked and written at a time: the import's memory, whatever the file's length
)
_IN = 900  # source ids per stored-task lookup
STAGE = KeyStage("callback_source_stage")
# The call's own columns, besides the survey history's meta columns (source_id, customer, ...).
CALL_COLUMNS = {
    "called_at": ("called_at", "call_time", "回访时间", "通话时间"),
    "outcome": ("outcome", "result", "回访结果", "结果"),
    "contact_name": ("contact_name", "联系人姓名"),
    "phone": ("phone", "电话"),
    "engineer": ("engineer", "处理工程师"),
    "note": ("note", "备注"),
}
OUTCOMES = {o.value: o.value for o in CallbackOutcome} | {
    "已完成": CallbackOutcome.COMPLETED.value, "无人接听": CallbackOutcome.NO_ANSWER.value,
    "拒绝": CallbackOutcome.REFUSED.value, "号码错误": CallbackOutcome.WRONG_NUMBER.value,
}  # fmt: skip


@dataclass(frozen=True)
class Call:
    row: HistoryRow
    outcome: str
    extra: dict[str, str | None]
    fingerprint: str


def _split(table: Table) -> tuple[Table, dict[str, list[str]], dict[str, str]]:
    """The table without the call's own columns (for the survey-row reader) and those columns."""
    alias = {a.casefold(): name for name, aliases in CALL_COLUMNS.items() for a in aliases}
    keep: list[int] = []
    own: dict[str, list[str]] = {}
    heads: dict[str, str] = {}
    for index, cell in enumerate(table.header):
        name = alias.get(cell.strip().casefold())
        if name is not None and name not in own:
            own[name], heads[name] = table.columns[index], cell
        else:
            keep.append(index)
    if "called_at" in own:  # the survey reader's submitted_at is the call's time
        keep.append(len(table.header))
    header = tuple(table.header[i] for i in keep if i < len(table.header)) + (
        ("submitted_at",) if "called_at" in own else ()
    )
    columns = tuple(table.columns[i] for i in keep if i < len(table.header)) + (
        (own["called_at"],) if "called_at" in own else ()
    )
    rest = Table(
        header, columns, table.n_rows, table.file_format, table.encoding, table.first_row, table.row_numbers
    )
    return rest, own, heads


@dataclass(frozen=True)
class _Script:
    """What every chunk of a file is read with: the callback script and the file's layout."""

    version: SurveyVersion
    questionnaire: Questionnaire
    layout: Layout
    target: Target
    defaults: dict[str, object]
    source_heading: str  # the source id's column as the file names it


def _script(session: Session, campaign: CallbackCampaign, header: tuple[str, ...], tz: str,
            options: ImportOptions, problems: ProblemList) -> _Script | None:  # fmt: skip
    """The script and layout of a file with this header; None (with problems) when it has none."""
    version = session.get(SurveyVersion, campaign.survey_version_id) if campaign.survey_version_id else None
    if version is None:
        no_script = ("该回访任务没有回访脚本", "The campaign has no callback script.")
        problems.add(ImportProblem(None, *no_script, code="no_script"))
        return None
    questionnaire = questionnaire_of(version)
    rest, own_columns, _ = _split(Table(header, tuple([] for _ in header), 0, "", None))
    for name in ("called_at", "outcome"):
        if name not in own_columns:
            problems.add(problem(1, name, None, "missing_column"))
    if problems:
        return None
    layout = read_layout(rest.header, questionnaire)
    layout.missing = [m for m in layout.missing if m in META]  # a call not completed has no answers
    target = Target(0, version.id, False, campaign.region_id, None, None, None, tz, options.allowed_regions)
    check_header(rest, layout, target, problems)
    # As a call recorded live: a completed call reached the person unless the file says otherwise.
    defaults: dict[str, object] = (
        {"reached": "reached"} if any(q.id == "reached" for q in questionnaire.questions()) else {}
    )
    heading = rest.header[layout.meta["source_id"]] if "source_id" in layout.meta else "source_id"
    return _Script(version, questionnaire, layout, target, defaults, heading)


def _read(session: Session, script: _Script, table: Table, problems: ProblemList,
          seen: dict[str, int]) -> list[Call]:  # fmt: skip
    """The valid calls of one chunk; ``seen`` receives the first row of each of its source ids."""
    take_nul_cells(table, problems)  # before any cell is read: a NUL is its row's problem
    rest, own_columns, heads = _split(table)
    outcomes = [OUTCOMES.get(v.strip().lower(), "") for v in own_columns["outcome"]]
    for i, outcome in enumerate(outcomes):
        if not outcome:
            problems.add(problem(table.row_no(i), heads["outcome"], own_columns["outcome"][i], "bad_choice",
                                 choices=", ".join(o.value for o in CallbackOutcome)))  # fmt: skip
    completed = [o == CallbackOutcome.COMPLETED for o in outcomes]
    found = parse_rows(
        session, rest, script.layout, script.questionnaire, script.target, problems, answered=completed,
        defaults=script.defaults, seen=seen,
    )  # fmt: skip
    rows = {r.row: r for r in found}
    calls = []
    for i in range(table.n_rows):
        row = rows.get(table.row_no(i))
        if row is None or not outcomes[i]:
            continue
        extra = {name: (own_columns[name][i].strip() or None) if name in own_columns else None
                 for name in ("contact_name", "phone", "engineer", "note")}  # fmt: skip
        answers = row.answers if outcomes[i] == CallbackOutcome.COMPLETED else {}
        row = replace(row, answers=answers, means=ResponseMeans.CALLBACK)
        key = [
            outcomes[i],
            str(row.submitted_at),
            row.customer_id,
            row.service_id,
            row.ticket_id,
            extra,
            answers,
        ]
        calls.append(Call(row, outcomes[i], extra, json.dumps(key, sort_keys=True, default=str)))
    return calls


def _ref(call: Call) -> str:
    return call.row.nonce.split(":", 1)[1]


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _tasks(session: Session, campaign_id: int, refs: list[str]) -> dict[str, CallbackTask]:
    """The campaign's imported tasks of these source ids."""
    out: dict[str, CallbackTask] = {}
    for chunk in _chunks(refs, _IN):
        stmt = select(CallbackTask).where(
            CallbackTask.campaign_id == campaign_id, CallbackTask.source_ref.in_(chunk)
        )
        out.update((t.source_ref, t) for t in session.scalars(stmt) if t.source_ref is not None)
    return out


def _stored_fingerprint(session: Session, task: CallbackTask) -> str:
    attempt = task.attempt_log[-1] if task.attempt_log else None
    answers: dict[str, Any] = {}
    if task.response_id is not None:
        answers = session.scalar(select(Response.answers).where(Response.id == task.response_id)) or {}
    extra = {"contact_name": task.contact_name, "phone": task.phone, "engineer": task.engineer,
             "note": attempt.note if attempt else None}  # fmt: skip
    when = str(attempt.at) if attempt else None
    key = [task.status, when, task.customer_id, task.service_id, task.ticket_id, extra, answers]
    return json.dumps(key, sort_keys=True, default=str)


def _withdraw(session: Session, task: CallbackTask, tz: str) -> None:
    if task.response_id is not None:
        facts = table_of(ExperienceObservation)
        weeks = set(
            session.scalars(
                select(facts.c.period_start)
                .where(facts.c.source == "callback", facts.c.source_id == task.response_id)
                .distinct()
            )
        )
        # The withdrawn facts are rows of their own weeks, declared so (data_version.week_write):
        # the pre-aggregates read those weeks again instead of every week (a corrected file of
        # callbacks made them all stale). None: nothing of the facts to withdraw.
        declared = (
            week_write(session.connection(), "experience_observation", weeks, tz) if weeks else nullcontext()
        )
        with declared:
            for table in (facts, table_of(TextEntry)):
                session.execute(
                    delete(table).where(table.c.source == "callback", table.c.source_id == task.response_id)
                )
        session.execute(delete(table_of(Response)).where(table_of(Response).c.id == task.response_id))
        task.response_id, task.completed_at = None, None
    task.attempt_log.clear()
    session.flush()


def _store(
    session: Session, campaign: CallbackCampaign, script: _Script, call: Call, task: CallbackTask | None,
    tz: str,
) -> None:  # fmt: skip
    row = call.row
    if task is None:
        task = CallbackTask(
            campaign_id=campaign.id, region_id=row.region_id, source_ref=row.nonce.split(":", 1)[1]
        )
        session.add(task)
    task.customer_id, task.service_id, task.ticket_id = row.customer_id, row.service_id, row.ticket_id
    task.contact_name, task.phone, task.engineer = (call.extra["contact_name"], call.extra["phone"],
                                                    call.extra["engineer"])  # fmt: skip
    task.status, task.attempts = call.outcome, 1
    session.flush()
    if call.outcome == CallbackOutcome.COMPLETED:
        version = script.version
        who = Attribution(row.region_id, row.customer_id, row.service_id, row.tier_id, row.ticket_id, None)
        written = write_response(
            session, questionnaire=script.questionnaire, version_id=version.id, campaign_id=None,
            clean=row.answers, who=who, means=ResponseMeans.CALLBACK, language=row.language, nonce=None,
            invitation_id=None, now=row.submitted_at, org_timezone=tz, anonymous=False,
            limits=Thresholds(None, None, ()), followup_days=0, notify=False,
        )  # fmt: skip
        task.response_id, task.completed_at = written.response_id, row.submitted_at
    session.add(CallbackAttempt(task_id=task.id, region_id=task.region_id, at=row.submitted_at,
                                outcome=call.outcome, note=call.extra["note"]))  # fmt: skip
    session.flush()


def import_callbacks(
    session: Session, campaign: CallbackCampaign, options: ImportOptions, *, org_timezone: str,
    data: Source | None = None, items: Any = None, filename: str | None = None,
    batch: ImportBatch | None = None,
) -> ImportResult:  # fmt: skip
    """Check every call and (unless a dry run) store the new and changed ones. Raises KpiImportError
    naming every problem (row, column, value); nothing is stored then. Flushes, never commits.
    The file is read in chunks (see the module docstring)."""
    started = time.perf_counter()
    source, chunks = read_chunks(data, items, options, READ_ROWS)
    problems = ProblemList(source.header)
    script = _script(session, campaign, source.header, org_timezone, options, problems)
    problems.raise_if_any()
    assert script is not None
    conn = session.connection()
    STAGE.create(conn)
    total = new_count = changed_count = 0
    file_format, encoding = source.file_format, source.encoding
    try:
        # A savepoint: a problem found in a later chunk undoes the chunks written before it.
        with nullcontext() if options.dry_run else session.begin_nested():
            for table in chunks:
                file_format, encoding = table.file_format, table.encoding
                seen: dict[str, int] = {}
                calls = _read(session, script, table, problems, seen)
                STAGE.add(conn, seen.items())
                del table, seen
                if problems:  # keep checking (every problem is named), stop writing
                    continue
                tasks = _tasks(session, campaign.id, [_ref(c) for c in calls])
                new = [c for c in calls if _ref(c) not in tasks]
                changed = [
                    (c, tasks[_ref(c)]) for c in calls
                    if _ref(c) in tasks and _stored_fingerprint(session, tasks[_ref(c)]) != c.fingerprint
                ]  # fmt: skip
                total += len(calls)
                new_count += len(new)
                changed_count += len(changed)
                if not options.dry_run:
                    for call in new:
                        _store(session, campaign, script, call, None, org_timezone)
                    for call, task in changed:
                        _withdraw(session, task, org_timezone)
                        _store(session, campaign, script, call, task, org_timezone)
                del calls, tasks, new, changed
            repeats, repeated = STAGE.repeats(conn, MAX_PROBLEMS)
            for row_no, source_id, first in repeats:
                problems.add(own(row_no, script.source_heading, source_id, "duplicate_source", other=first))
            problems.count += repeated - len(repeats)
            problems.raise_if_any()
    finally:
        STAGE.drop(conn)
    batch, duplicate = prepare_batch(
        session, KIND, replace(options, allow_duplicate=True), filename=filename,
        file_format=file_format, encoding=encoding, digest=source.digest, size=source.size, batch=batch,
    )  # fmt: skip
    finish_batch(session, batch, options, (total, new_count, changed_count), started)
    keep_upload(options, source.digest, data)
    if not options.dry_run:
        forget_upload(options, batch)
    return ImportResult(
        batch_id=batch.id, kind=KIND, dry_run=options.dry_run, rows_total=total, rows_new=new_count,
        rows_changed=changed_count, rows_unchanged=total - new_count - changed_count,
        file_format=file_format, encoding=encoding, seconds=time.perf_counter() - started,
        duplicate_of=duplicate,
    )  # fmt: skip
