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
"""

from __future__ import annotations

import json
import time
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
from perception.kpi.services.files import Table
from perception.kpi.services.messages import ImportProblem, ProblemList, problem
from perception.kpi.services.ticket_import import (
    ImportOptions,
    ImportResult,
    finish_batch,
    forget_upload,
    keep_upload,
    load_source,
    prepare_batch,
)
from perception.surveys.models import Response, ResponseMeans, SurveyVersion, table_of
from perception.surveys.services.definitions import questionnaire_of
from perception.surveys.services.facts import Attribution
from perception.surveys.services.followup import Thresholds
from perception.surveys.services.history_columns import META, read_layout
from perception.surveys.services.history_rows import HistoryRow, Target, check_header, parse_rows
from perception.surveys.services.store import write_response

KIND = "callbacks"
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


def _read(session: Session, campaign: CallbackCampaign, table: Table, tz: str, options: ImportOptions,
          problems: ProblemList) -> list[Call]:  # fmt: skip
    version = session.get(SurveyVersion, campaign.survey_version_id) if campaign.survey_version_id else None
    if version is None:
        no_script = ("该回访任务没有回访脚本", "The campaign has no callback script.")
        problems.add(ImportProblem(None, *no_script, code="no_script"))
        return []
    questionnaire = questionnaire_of(version)
    rest, own, heads = _split(table)
    for name in ("called_at", "outcome"):
        if name not in own:
            problems.add(problem(1, name, None, "missing_column"))
    if problems:
        return []
    layout = read_layout(rest.header, questionnaire)
    layout.missing = [m for m in layout.missing if m in META]  # a call not completed has no answers
    target = Target(0, version.id, False, campaign.region_id, None, None, None, tz, options.allowed_regions)
    check_header(rest, layout, target, problems)
    if problems:
        return []
    outcomes = [OUTCOMES.get(v.strip().lower(), "") for v in own["outcome"]]
    for i, outcome in enumerate(outcomes):
        if not outcome:
            problems.add(problem(table.row_no(i), heads["outcome"], own["outcome"][i], "bad_choice",
                                 choices=", ".join(o.value for o in CallbackOutcome)))  # fmt: skip
    completed = [o == CallbackOutcome.COMPLETED for o in outcomes]
    # As a call recorded live: a completed call reached the person unless the file says otherwise.
    defaults: dict[str, object] = (
        {"reached": "reached"} if any(q.id == "reached" for q in questionnaire.questions()) else {}
    )
    found = parse_rows(
        session, rest, layout, questionnaire, target, problems, answered=completed, defaults=defaults
    )
    rows = {r.row: r for r in found}
    calls = []
    for i in range(table.n_rows):
        row = rows.get(table.row_no(i))
        if row is None or not outcomes[i]:
            continue
        extra = {name: (own[name][i].strip() or None) if name in own else None
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


def _withdraw(session: Session, task: CallbackTask) -> None:
    if task.response_id is not None:
        for table in (table_of(ExperienceObservation), table_of(TextEntry)):
            session.execute(
                delete(table).where(table.c.source == "callback", table.c.source_id == task.response_id)
            )
        session.execute(delete(table_of(Response)).where(table_of(Response).c.id == task.response_id))
        task.response_id, task.completed_at = None, None
    task.attempt_log.clear()
    session.flush()


def _store(
    session: Session, campaign: CallbackCampaign, call: Call, task: CallbackTask | None, tz: str
) -> None:
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
        version = session.get(SurveyVersion, campaign.survey_version_id)
        assert version is not None
        who = Attribution(row.region_id, row.customer_id, row.service_id, row.tier_id, row.ticket_id, None)
        written = write_response(
            session, questionnaire=questionnaire_of(version), version_id=version.id, campaign_id=None,
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
    naming every problem (row, column, value); nothing is stored then."""
    started = time.perf_counter()
    table, digest, size = load_source(data, items, options)
    problems = ProblemList()
    calls = _read(session, campaign, table, org_timezone, options, problems)
    problems.raise_if_any()
    tasks = {
        t.source_ref: t
        for t in session.scalars(
            select(CallbackTask).where(
                CallbackTask.campaign_id == campaign.id, CallbackTask.source_ref.is_not(None)
            )
        )
    }
    new = [c for c in calls if c.row.nonce.split(":", 1)[1] not in tasks]
    changed = [
        (c, tasks[ref]) for c in calls if (ref := c.row.nonce.split(":", 1)[1]) in tasks
        and _stored_fingerprint(session, tasks[ref]) != c.fingerprint
    ]  # fmt: skip
    batch, duplicate = prepare_batch(
        session, KIND, replace(options, allow_duplicate=True), filename=filename,
        file_format=table.file_format, encoding=table.encoding, digest=digest, size=size, batch=batch,
    )  # fmt: skip
    if not options.dry_run:
        for call in new:
            _store(session, campaign, call, None, org_timezone)
        for call, task in changed:
            _withdraw(session, task)
            _store(session, campaign, call, task, org_timezone)
    total = len(calls)
    finish_batch(session, batch, options, (total, len(new), len(changed)), started)
    keep_upload(options, digest, data)
    if not options.dry_run:
        forget_upload(options, batch)
    return ImportResult(
        batch_id=batch.id, kind=KIND, dry_run=options.dry_run, rows_total=total, rows_new=len(new),
        rows_changed=len(changed), rows_unchanged=total - len(new) - len(changed),
        file_format=table.file_format, encoding=table.encoding, seconds=time.perf_counter() - started,
        duplicate_of=duplicate,
    )  # fmt: skip
