"""What a phase package hands the application factory: its blueprints, the modules that add its
API endpoints and jobs, its demo parts in order, and its periodic jobs.

Wiring is listed, never discovered: ``perception.create_app`` names the phase packages, and each
package's ``phase()`` names its parts. A missing module or a typo stops start-up with the name.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date
from types import ModuleType
from typing import Any

from flask import Blueprint


@dataclass(frozen=True)
class Periodic:
    """A job the scheduler runs every hour, day or week (one run per slot across all nodes).

    ``when_changed``: the job also runs at the scheduler's next tick (every minute) after the value
    this returns changes, read in the tick's transaction: the committed write counters of the data
    the job keeps up to date. A write is then noticed whichever process made it (an import on the
    command line, a worker, another node), not only when a page's request asks for the job.
    ``at_most_every``: seconds between two such runs (a stream of writes asks for one run per that
    many seconds, not one per tick)."""

    job: str
    every: str  # "hourly" | "daily" | "weekly"
    when_changed: Callable[[Any], Hashable] | None = field(default=None, compare=False)
    at_most_every: float = field(default=0.0, compare=False)


@dataclass(frozen=True)
class Phase:
    name: str
    models: ModuleType
    blueprints: tuple[Blueprint, ...] = ()
    # Modules imported for their side effect: API routes on the api blueprint, @job registrations.
    api: tuple[ModuleType, ...] = ()
    jobs: tuple[ModuleType, ...] = ()
    periodic: tuple[Periodic, ...] = ()
    # Demo loaders ``load(session, ctx)``, run in this order after the earlier phases' parts.
    demo: tuple[Callable[..., Any], ...] = field(default=())
    # The first day the demo's data must cover, given the demo's today (None: the demo's weeks).
    demo_covers: Callable[[date], date] | None = None


class PhaseMissing(RuntimeError):
    """A phase package named in the factory's list could not be imported or is incomplete."""


def load_phase(package: str) -> Phase:
    try:
        module = importlib.import_module(package)
    except ImportError as exc:
        raise PhaseMissing(f"phase package {package} could not be imported: {exc}") from exc
    factory = getattr(module, "phase", None)
    if not callable(factory):
        raise PhaseMissing(f"phase package {package} has no phase() function")
    try:
        phase = factory()
    except ImportError as exc:
        raise PhaseMissing(f"phase package {package} is incomplete: {exc}") from exc
    if not isinstance(phase, Phase):
        raise PhaseMissing(f"phase package {package}: phase() must return a Phase")
    return phase
