"""Running periodic jobs: the platform's and each phase's list (``Phase.periodic``), gathered by the
application factory into ``app.extensions["perception.periodic"]``.

Each entry names a registered job and how often it runs. ``run_due`` claims the current time slot
of every job by inserting a ScheduledRun row (unique per job and slot), so with several nodes or
scheduler processes each slot is enqueued exactly once. ``changed_since`` finds the jobs whose data
changed since the scheduler's previous tick (``Periodic.when_changed``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Hashable, MutableMapping, Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from perception.core.models.jobs import ScheduledRun
from perception.core.phase import Periodic

logger = logging.getLogger(__name__)


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


#: What a scheduler saw of a job's data at its last send (``changed_since``): the value and when.
Seen = MutableMapping[str, tuple[Hashable, float]]
#: The value recorded for a job whose run failed: never equal to a value read, so the job is sent
#: again once its interval has passed.
FAILED = object()


def changed_since(
    session: Session, periodic: Sequence[Periodic], seen: Seen, now: float, due: Collection[str] = ()
) -> list[str]:
    """The jobs whose ``when_changed`` value differs from the one this scheduler sent them for, and
    whose last such send is at least ``at_most_every`` seconds before ``now`` (a monotonic clock):
    a change seen sooner stays pending and is sent at a later tick. ``seen`` is updated for the
    jobs returned, and for those ``due`` in their slot this tick (sent anyway: their run sees the
    data, and starts no interval). At a scheduler's first tick every such job counts as changed:
    writes made while no scheduler ran (an import before `perception run`) are noticed too, and a
    job whose data is current finds it so at the cost of a few row reads. A value that cannot be
    read is logged and counts as unchanged: the hourly slot still runs the job."""
    changed: list[str] = []
    for item in periodic:
        if item.when_changed is None:
            continue
        try:
            with session.begin_nested():
                value = item.when_changed(session)
        except Exception:  # noqa: BLE001 - one job's check must not stop the tick
            logger.warning("could not read what %s's data looks like", item.job, exc_info=True)
            continue
        if item.job in due:
            seen[item.job] = (value, -math.inf)
            continue
        before = seen.get(item.job)
        if before is not None and (before[0] == value or now - before[1] < item.at_most_every):
            continue
        seen[item.job] = (value, now)
        changed.append(item.job)
    return changed
