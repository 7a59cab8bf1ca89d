"""Analysis facts from weekly-report entries.

- feedback entry (kind b): one ExperienceObservation (source "feedback", kind "rating", the
  dimension, value 1..5 on the scale 1..5, standard_code of the standard it was checked against)
  and one TextEntry (kind "feedback");
- requirement (kind c): one TextEntry (kind "requirement");
- dynamic information (kind a): no fact row; analysis reads them with
  ``services.analysis.events_between`` to mark its timelines.

Rows are keyed (source "feedback", source_id = entry id); they are written when a report is
submitted or resubmitted and withdrawn when it is returned (see ``services.reports``). Entries
carry no date of their own except dynamic events, so feedback and requirements are observed on
the Monday of the report's week (period_start = observed_on). Every fact row a report writes or
withdraws is of its week, and declared so (``_of_the_reports_week``): a report of last week moves the
analysis pre-aggregates' split back to that week instead of making them stale, and leaves the
overview's change look current: it tests customers' own answers, not the collectors' (issue 19).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from perception.collection.models.reports import CollectionReport, EntryKind
from perception.core.clock import DEFAULT_TIMEZONE
from perception.core.models.facts import ExperienceObservation, ExperienceSource, TextEntry, TextKind
from perception.core.models.org import Region
from perception.kpi.services.data_version import week_write
from perception.setup.models.catalog import Subscription

SOURCE = ExperienceSource.FEEDBACK


def _of_the_reports_week(session: Session, report: CollectionReport) -> AbstractContextManager[None]:
    """The fact rows written inside are of the report's week alone (data_version.week_write; the
    zone only decides whether that week counts as the current one, and any zone is safe), and are
    the collectors' voice, which the overview's change look does not test (``change_look=False``)."""
    region = session.get(Region, report.region_id)
    zone = (region.timezone if region is not None else None) or DEFAULT_TIMEZONE
    return week_write(
        session.connection(), "experience_observation", report.week_start, zone, change_look=False
    )


def withdraw_report_facts(session: Session, report: CollectionReport) -> None:
    ids = [e.id for e in report.entries]
    if not ids:
        return
    quick = {"synchronize_session": False}  # fact rows are never loaded as objects
    session.flush()  # anything pending is written outside the declaration
    with _of_the_reports_week(session, report):
        session.execute(
            delete(ExperienceObservation).where(
                ExperienceObservation.source == SOURCE, ExperienceObservation.source_id.in_(ids)
            ),
            execution_options=quick,
        )
    session.execute(
        delete(TextEntry).where(TextEntry.source == SOURCE, TextEntry.source_id.in_(ids)),
        execution_options=quick,
    )
    from perception.collection.services import feedback_check as collection_feedback_check

    collection_feedback_check.forget(session, collection_feedback_check.FEEDBACK, ids)


def _tiers(session: Session, report: CollectionReport) -> dict[tuple[int, int], int | None]:
    customers = {e.customer_id for e in report.entries if e.customer_id}
    if not customers:
        return {}
    rows = session.execute(
        select(Subscription.customer_id, Subscription.service_id, Subscription.tier_id).where(
            Subscription.customer_id.in_(customers)
        )
    ).all()
    return {(c, s): t for c, s, t in rows}


def write_report_facts(session: Session, report: CollectionReport, standards: Any = None) -> None:
    """Delete and rewrite the facts of every entry of ``report`` (idempotent). ``standards`` is a
    ``collection_feedback_check.Standards`` cache to share across many reports."""
    from perception.collection.services import feedback_check as collection_feedback_check

    withdraw_report_facts(session, report)
    tiers = _tiers(session, report)
    week = report.week_start
    checks = collection_feedback_check.check_feedback_entries(session, report, standards)
    observations: list[dict[str, object]] = []
    texts: list[dict[str, object]] = []
    for entry in report.entries:
        base = {
            "source": SOURCE,
            "source_id": entry.id,
            "observed_on": week,
            "period_start": week,
            "region_id": report.region_id,
            "customer_id": entry.customer_id,
            "service_id": entry.service_id,
        }
        if entry.kind == EntryKind.FEEDBACK and entry.rating is not None:
            check = checks.get(entry.id)
            observations.append(
                base
                | {
                    "tier_id": tiers.get((entry.customer_id or 0, entry.service_id or 0)),
                    "kind": "rating",
                    "dimension": entry.dimension,
                    "servqual_dimension": None,
                    "item": entry.dimension,
                    "standard_code": check.standard_code if check else None,
                    "value": float(entry.rating),
                    "scale_min": 1.0,
                    "scale_max": 5.0,
                }
            )
            texts.append(base | {"kind": TextKind.FEEDBACK, "dimension": entry.dimension, "text": entry.text})
        elif entry.kind == EntryKind.REQUIREMENT:
            texts.append(base | {"kind": TextKind.REQUIREMENT, "dimension": None, "text": entry.text})
    if observations:
        session.flush()
        with _of_the_reports_week(session, report):
            session.execute(insert(ExperienceObservation), observations)
    if texts:
        session.execute(insert(TextEntry), texts)
    session.flush()
