"""Which write of the KPI values a table derived from them matches (issue 19).

The KPI values' running sums (kpi_cumulative) and their weekly sums over the regions
(kpi_week_sums) each keep a state row stamped with the KPI values' write counter (``KPI_VALUES``,
kpi.services.data_version) their rows match; readers use the rows only when the stamp equals the
counter as their transaction sees it. One protocol for both, written once here: the counter's
committed value, this transaction's token (non-zero once it wrote KPI values) and its writes.

A state row has two text columns: ``signature`` (the version as committed) and ``pending`` (the
version inside the transaction that wrote it, until its commit moves the counter on by one).
"""

from __future__ import annotations

import enum
from typing import Protocol

from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

Version = tuple[int, int, int]  # (committed, this transaction's token, its writes)


class Freshness(enum.StrEnum):
    ABSENT = "absent"  # no table or never built
    CURRENT = "current"  # matches the KPI values as this transaction sees them
    STALE = "stale"


class StampedState(Protocol):
    signature: str
    pending: str | None


def kpi_values_version(session: Session) -> Version | None:
    """The KPI values' write counter as this transaction sees it (None: no counter table yet)."""
    from perception.kpi.services.data_version import KPI_VALUES, read_version

    try:
        with session.begin_nested():
            return read_version(session, KPI_VALUES)
    except (OperationalError, ProgrammingError):
        return None


def signature(version: Version) -> str:
    return "dv:%d:%d:%d" % version  # noqa: UP031 - three integers


def is_current(state: StampedState, version: Version) -> bool:
    """The rows match the values: as committed (no write of this transaction), or as this
    transaction wrote them (the signature it stamped inside it)."""
    return signature(version) == (state.signature if version[1] == 0 else state.pending)


def was_current_before_these_writes(state: StampedState, version: Version) -> bool:
    """What a writer of KPI values asks after its writes: were the rows current before them, as
    committed or as an earlier writer of this transaction left them?"""
    committed, token, _ = version
    return state.signature == signature((committed, 0, 0)) or (state.pending or "").startswith(
        f"dv:{committed}:{token}:"
    )


def stamp(state: StampedState, version: Version) -> None:
    """Record the version the rows match: after this transaction commits (its writes of KPI values,
    if any, go up by one at commit: data_version._bump) and, when it wrote some, inside it."""
    committed, token, _ = version
    state.signature = signature((committed + 1, 0, 0)) if token else signature(version)
    state.pending = signature(version) if token else None
