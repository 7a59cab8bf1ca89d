"""The home page's panels (issue 17 "A home that says what to do now"): each phase contributes
the panel of the roles it serves (headline figures with their trend, and that person's to-dos);
the home page (perception.web.main) shows the panels the signed-in user gets, in order.

The platform imports no phase, so phases register here (``@home_panel(order)`` in the phase's
``home`` module, imported with its views). A panel function takes the session, the user and the
organisation's clock and returns a HomePanel, or None when the panel is not for that user.
Registration is code, the same on every node: nothing here holds data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from perception.core.clock import Clock
from perception.core.models.auth import User


@dataclass(frozen=True)
class HomeFigure:
    """A headline figure: its label, the value as shown (with its unit), and the change
    against the previous period as shown (``trend`` > 0 is better, < 0 worse, 0 steady)."""

    label: str
    value: str
    change: str | None = None
    trend: int = 0
    note: str | None = None
    href: str | None = None


@dataclass(frozen=True)
class HomeTodo:
    """Something this person should do, with its due date when it has one."""

    key: str  # a stable name for tests and anchors, e.g. "report:2026-11-16"
    text: str
    href: str | None = None
    due: date | None = None
    overdue: bool = False
    detail: str | None = None


@dataclass(frozen=True)
class HomePanel:
    key: str
    title: str
    figures: list[HomeFigure] = field(default_factory=list)
    todos: list[HomeTodo] = field(default_factory=list)
    nothing_to_do: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, href)


PanelFunction = Callable[[Session, User, Clock], HomePanel | None]
_PANELS: list[tuple[int, str, PanelFunction]] = []


def home_panel(order: int) -> Callable[[PanelFunction], PanelFunction]:
    """Register a panel function; lower ``order`` shows first."""

    def register(function: PanelFunction) -> PanelFunction:
        name = f"{function.__module__}.{function.__qualname__}"
        if all(existing != name for _, existing, _ in _PANELS):
            _PANELS.append((order, name, function))
            _PANELS.sort(key=lambda item: (item[0], item[1]))
        return function

    return register


def panels_for(session: Session, user: User, clock: Clock) -> list[HomePanel]:
    out: list[HomePanel] = []
    for _order, _name, function in _PANELS:
        panel = function(session, user, clock)
        if panel is not None:
            out.append(panel)
    return out


def signed(value: float, digits: int = 1) -> str:
    """A change with its sign, as shown next to a figure."""
    return f"{value:+.{digits}f}"


def direction(value: float | None, *, higher_is_better: bool = True) -> int:
    if value is None or value == 0:
        return 0
    better = value > 0 if higher_is_better else value < 0
    return 1 if better else -1
