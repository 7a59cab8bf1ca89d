"""The organisation's clock: "now", "today" and "this week" in the organisation's time zone.

The time zone is the setting ``ORG_TIMEZONE`` (default ``DEFAULT_TIMEZONE``, written only here).
A view, job or CLI command takes the clock from the settings with ``current_clock()`` and hands
it, or the dates it gives, to the operations; operations never read the settings themselves.
Tests pass a ``Clock`` with a fixed ``now``. Stored moments are naive UTC (``core.models.base``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Clock:
    timezone: str = DEFAULT_TIMEZONE
    fixed_now: datetime | None = None  # naive UTC; None = the real time

    def now(self) -> datetime:
        """This moment as naive UTC, the way it is stored."""
        if self.fixed_now is not None:
            return self.fixed_now
        return datetime.now(UTC).replace(tzinfo=None)

    def local(self, moment: datetime | None = None) -> datetime:
        """A naive-UTC moment (default: now) as an aware time in the organisation's zone."""
        moment = self.now() if moment is None else moment
        aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        return aware.astimezone(ZoneInfo(self.timezone))

    def today(self) -> date:
        """The organisation's calendar date now."""
        return self.local().date()

    def week_start(self) -> date:
        """Monday of the organisation's current ISO week."""
        today = self.today()
        return today - timedelta(days=today.weekday())


def current_clock(at: str | datetime | None = None) -> Clock:
    """The clock of the running application (its ORG_TIMEZONE; CLOCK_NOW pins it in tests).

    ``at`` pins it to a moment (naive UTC, or ISO text as the scheduler passes a job's slot)."""
    from flask import current_app

    fixed = current_app.config.get("CLOCK_NOW")
    if at is not None:
        fixed = (at if isinstance(at, datetime) else datetime.fromisoformat(at)).replace(tzinfo=None)
    return Clock(timezone=current_app.config.get("ORG_TIMEZONE") or DEFAULT_TIMEZONE, fixed_now=fixed)


def local_time(moment: datetime | None, timezone: str | None = None) -> str:
    """A stored naive-UTC moment to the minute, in ``timezone`` (a region's) when given, else in the
    organisation's: pages show local times, never UTC beside local deadlines (issue 17). The
    app-wide Jinja filter ``local_time`` (``{{ report.first_submitted_at|local_time(region.timezone) }}``)."""
    if moment is None:
        return "—"
    clock = current_clock()
    if timezone:
        clock = replace(clock, timezone=timezone)
    return clock.local(moment).strftime("%Y-%m-%d %H:%M")
