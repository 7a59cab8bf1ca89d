"""Running periodic jobs: the platform's and each phase's list (``Phase.periodic``), gathered by the
application factory into ``app.extensions["perception.periodic"]``.

Each entry names a registered job and how often it runs. ``run_due`` claims the current time slot
of every job by inserting a ScheduledRun row (unique per job and slot), so with several nodes or
scheduler processes each slot is enqueued exactly once. ``changed_since`` finds the jobs whose data
changed since the scheduler's previous tick (``Periodic.when_changed``).
"""

from __future__ import annotations

from collections.abc import Hashable, MutableMapping, Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from perception.core.models.jobs import ScheduledRun
from perception.core.phase import Periodic


def slot_for(every: str, now: datetime) -> str:
    if every == "hourly":
        return now.strftime("%Y-%m-%dT%H")
    if every == "daily":
        return now.strftime("%Y-%m-%d")
    if every == "weekly":
        year, week, _ = now.isocalendar()
        return f"{year}-W{week:02d}"
    raise ValueError(f"unknown period {every!r}")


def claim(session: Session, job: str, slot: str) -> bool:
    """Insert the (job, slot) row in a savepoint; False when another scheduler already has it."""
    try:
        with session.begin_nested():
            session.add(ScheduledRun(job_name=job, slot=slot))
        return True
    except IntegrityError:
        return False


def run_due(
    session: Session, now: datetime, periodic: Sequence[Periodic], enqueue: object = None
) -> list[str]:
    """Enqueue every periodic job whose current slot has not been claimed. Returns the names."""
    from perception.core.jobs import enqueue as default_enqueue

    send = enqueue or default_enqueue
    started: list[str] = []
    for item in periodic:
        if claim(session, item.job, slot_for(item.every, now)):
            send(item.job, now=now.isoformat())  # type: ignore[operator]
            started.append(item.job)
    return started


def changed_since(
    session: Session, periodic: Sequence[Periodic], seen: MutableMapping[str, Hashable]
) -> list[str]:
    """The jobs whose ``when_changed`` value differs from the one this scheduler saw at its previous
    tick (kept in ``seen``, updated here). At a scheduler's first tick every such job counts as
    changed: writes made while no scheduler ran (an import before `perception run`) are noticed too,
    and a job whose data is current finds it so at the cost of a few row reads."""
    changed: list[str] = []
    for item in periodic:
        if item.when_changed is None:
            continue
        value = item.when_changed(session)
        if item.job not in seen or seen[item.job] != value:
            changed.append(item.job)
        seen[item.job] = value
    return changed
