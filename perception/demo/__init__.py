"""The demo organisation: realistic data so the first page a newcomer opens has something in it.

Each part lives in its own module with ``load(session, ctx)``; they run in order and share a
``DemoContext``. Every loader is idempotent (looks up by code before creating), so re-running
``perception demo`` never duplicates data.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

DEMO_PASSWORD = "perception-demo"  # noqa: S105 - printed by the demo command; demo data only

# Order matters: later parts use what earlier ones created.
PARTS = (
    "perception.demo.org",
    "perception.demo.setup",
    "perception.demo.tickets",
    "perception.demo.surveys",
    "perception.demo.collection",
    "perception.demo.analysis",
    "perception.demo.review",
)


@dataclass
class DemoContext:
    weeks: int
    today: date
    seed: int = 20261121
    summary: list[str] = field(default_factory=list)
    shared: dict[str, Any] = field(default_factory=dict)

    @property
    def first_week_start(self) -> date:
        monday = self.today - timedelta(days=self.today.weekday())
        return monday - timedelta(weeks=self.weeks)


def load_demo(session: Session, weeks: int = 26, today: date | None = None) -> list[str]:
    ctx = DemoContext(weeks=weeks, today=today or date.today())
    for name in PARTS:
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        module.load(session, ctx)
        session.flush()
    return ctx.summary
