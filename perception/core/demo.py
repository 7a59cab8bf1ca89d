"""The demo organisation: realistic data so the first page a newcomer opens has something in it.

Each phase keeps its part in its own ``demo.py`` with ``load(session, ctx)`` and lists it in its
``phase()``; the parts run in the order of the phases and share a ``DemoContext``. Every loader is
idempotent (looks up by code before creating), so re-running ``perception demo`` never duplicates data.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from perception.core.clock import current_clock
from perception.core.phase import Phase

DEMO_PASSWORD = "perception-demo"  # noqa: S105 - printed by the demo command; demo data only


@functools.cache
def demo_password_hash() -> str:
    """One argon2 hash of DEMO_PASSWORD for every demo user: they share the password the demo
    prints, so equal hashes tell nothing more, and hashing each customer representative's took 6 of
    ``perception demo --weeks 3``'s 62 s."""
    from perception.core import security

    return security.hash_password(DEMO_PASSWORD)


#: How much of a full week's volume (answers, tickets, report rows) an older "history" week gets.
HISTORY_DENSITY = 0.25


@dataclass
class DemoContext:
    """``weeks`` full weeks up to today, after ``history_weeks`` thinner ones (HISTORY_DENSITY of
    the answers, tickets and report rows), so the data covers every month of the period the demo's
    signed review is about without doubling the load (issue 17: "a review period it covers").
    Week indexes count from ``first_week_start`` over ``total_weeks``."""

    weeks: int
    today: date
    seed: int = 20261121
    summary: list[str] = field(default_factory=list)
    shared: dict[str, Any] = field(default_factory=dict)
    history_weeks: int = 0

    @property
    def total_weeks(self) -> int:
        return self.weeks + self.history_weeks

    @property
    def first_week_start(self) -> date:
        monday = self.today - timedelta(days=self.today.weekday())
        return monday - timedelta(weeks=self.total_weeks)

    def share(self, week: int) -> float:
        """The share of a full week's volume that week ``week`` (an index) gets."""
        return 1.0 if week >= self.history_weeks else HISTORY_DENSITY

    def count(self, week: int, full: int) -> int:
        """``full`` thinned for week ``week``, at least one."""
        return full if week >= self.history_weeks else max(1, round(full * HISTORY_DENSITY))


def history_weeks(today: date, weeks: int, cover_from: date | None) -> int:
    """The thinner weeks needed before ``weeks`` full ones so the data starts on the Monday on or
    before ``cover_from``."""
    if cover_from is None:
        return 0
    monday = today - timedelta(days=today.weekday())
    first = cover_from - timedelta(days=cover_from.weekday())
    return max(0, (monday - first).days // 7 - weeks)


def demo_parts() -> tuple[Callable[[Session, DemoContext], Any], ...]:
    """Every phase's demo loaders, in the order of the phases (later parts use earlier ones' data)."""
    phases: tuple[Phase, ...] = current_app.extensions["perception.phases"]
    return tuple(part for phase in phases for part in phase.demo)


def load_demo(
    session: Session,
    weeks: int = 26,
    today: date | None = None,
    parts: Sequence[Callable[[Session, DemoContext], Any]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[str]:
    """Run every demo part; ``progress`` hears which part starts and how long each took, so a
    load of half a minute (minutes on a busy machine) does not look like a hang. The data reaches
    back, thinner, to the earliest day a phase's ``demo_covers`` asks for (the review phase: the
    start of the period its signed review is about)."""
    day = today or current_clock().today()
    phases: tuple[Phase, ...] = current_app.extensions["perception.phases"]
    starts = [phase.demo_covers(day) for phase in phases if phase.demo_covers is not None]
    ctx = DemoContext(weeks=weeks, today=day)
    ctx.history_weeks = history_weeks(day, weeks, min(starts) if starts else None)
    chosen = demo_parts() if parts is None else parts
    for number, load in enumerate(chosen, 1):
        name = part_name(load)
        if progress:
            progress(f"[{number}/{len(chosen)}] {name} ...")
        started = time.perf_counter()
        load(session, ctx)
        session.flush()
        if progress:
            progress(f"[{number}/{len(chosen)}] {name}: done in {time.perf_counter() - started:.1f} s")
    return ctx.summary


def part_name(load: Callable[..., Any]) -> str:
    """ "kpi", "setup (org)": the phase a demo loader belongs to, and its module's own part."""
    module = load.__module__.split(".")
    phase = module[1] if len(module) > 1 else module[0]
    own = module[-1].removeprefix("demo").strip("_")
    return f"{phase} ({own})" if own else phase
