"""Reading service standards: the version in force on a date, the standards that apply to a
customer, and the bridge to the pure five-principle check (scoring.principles).

This is the public API the other phases use (tickets/KPIs, surveys, collection, analysis):

- ``standard_in_force(session, standard_id, on)``: the version of one standard in force on ``on``;
  ``versions_in_force(session, standard_ids, on)`` does the same for many standards in one query.
- ``standards_in_force(session, on, service_id=None, tier_id=None, customer_id=None)``: every
  version in force on ``on``; a given ``tier_id``/``customer_id`` keeps the standards for that
  tier/customer AND the general ones (tier/customer NULL) that also apply to it.
- ``applicable_standards(session, on, service_id, customer_id)``: per (metric, dimension, priority)
  the most specific version in force for that customer (customer > tier of its subscription >
  general), which is what a customer is actually measured against.
- ``experience_counterpart(session, standard_id, on)``: the experience target linked to a KPI standard.
- ``to_spec(version)``: the frozen ``StandardSpec`` the five-principle check reads.

"In force on d" means status confirmed or superseded and ``effective_from <= d < effective_to``
(``effective_to`` exclusive, NULL while current). Changes never overwrite a confirmed version
(see setup_confirm), so analysis of a past date uses the version agreed at that time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, joinedload

from perception.setup.models.catalog import Subscription
from perception.setup.models.standards import (
    EXPERIENCE_METRICS,
    IN_FORCE_STATUSES,
    ServiceStandard,
    StandardVersion,
)
from scoring.feasibility import ReplayedHistory
from scoring.principles import PrincipleReport, StandardSpec, check_principles

__all__ = [
    "applicable_standards",
    "check_version",
    "experience_counterpart",
    "measured_history",
    "proposed_history",
    "ReplayScope",
    "register_history_provider",
    "spec_from_content",
    "standard_by_code",
    "standard_in_force",
    "standards_in_force",
    "to_spec",
    "versions_in_force",
]


@dataclass(frozen=True)
class ReplayScope:
    """Which history a rule is replayed on: the complete periods of the standard's window that start
    on or after ``start`` and end by ``end`` (and before today), narrowed to one customer's own history
    when ``customer_id`` is given (a representative's view). Without a scope: the complete periods of
    the last half-year (a year for quarters) before today, the setup check's history."""

    start: date
    end: date
    customer_id: int | None = None
    #: What the replays of one scope share (the period's ticket frame, read once for all standards)
    cache: dict[Any, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)


# The history a standard speaks of, for the "feasible" principle: its rule replayed on raw history
# (scoring.feasibility.ReplayedHistory) or its measured values per period (oldest first). The KPI and
# analysis phases register a provider; the first one that returns something is used. The setup check,
# the propose gate and the review's standards section all read it here: one definition.
History = Sequence[float] | ReplayedHistory
HistoryProvider = Callable[[Session, StandardVersion, ReplayScope | None], History | None]
_history_providers: list[HistoryProvider] = []


def register_history_provider(provider: HistoryProvider) -> HistoryProvider:
    """Register ``provider(session, version, scope) -> values or None`` (usable as a decorator)."""
    if provider not in _history_providers:
        _history_providers.append(provider)
    return provider


def proposed_history(session: Session, d: Any) -> History | None:
    """``measured_history`` of a rule not stored yet (the standard form's "check"): ``d`` is the
    parsed StandardDef; its first version is replayed on the history of its service, tier and
    customer. None when the service is unknown."""
    from types import SimpleNamespace

    from perception.core.models.org import CustomerOrg
    from perception.setup.models.catalog import Service, ServiceTier

    service = session.scalar(select(Service).where(Service.code == d.service))
    if service is None:
        return None
    tier = session.scalar(select(ServiceTier).where(ServiceTier.code == d.tier)) if d.tier else None
    customer = (
        session.scalar(select(CustomerOrg).where(CustomerOrg.code == d.customer)) if d.customer else None
    )
    standard = SimpleNamespace(
        code=d.code,
        service_id=service.id,
        service=service,
        tier_id=tier.id if tier else None,
        tier=tier,
        customer_id=customer.id if customer else None,
        customer=customer,
    )
    content = d.versions[0]
    rule = SimpleNamespace(
        standard=standard,
        **{
            k: getattr(content, k)
            for k in (
                "metric",
                "dimension",
                "comparator",
                "target",
                "unit",
                "window",
                "time_limit_minutes",
                "priority",
            )
        },
    )
    return measured_history(session, rule)  # type: ignore[arg-type]


def measured_history(
    session: Session, version: StandardVersion, scope: ReplayScope | None = None
) -> History | None:
    """The history ``version`` speaks of (see ``ReplayScope``), None when no provider measures its metric."""
    for provider in _history_providers:
        values = provider(session, version, scope)
        if values is not None:
            return values
    return None


def _in_force_clause(on: date) -> ColumnElement[bool]:
    return and_(
        StandardVersion.status.in_(IN_FORCE_STATUSES),
        StandardVersion.effective_from.is_not(None),
        StandardVersion.effective_from <= on,
        or_(StandardVersion.effective_to.is_(None), StandardVersion.effective_to > on),
    )


def standard_in_force(session: Session, standard_id: int, on: date) -> StandardVersion | None:
    """The version of standard ``standard_id`` in force on ``on`` (None before the first confirmation)."""
    stmt = (
        select(StandardVersion)
        .where(StandardVersion.standard_id == standard_id, _in_force_clause(on))
        .order_by(StandardVersion.version.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def versions_in_force(session: Session, standard_ids: Iterable[int], on: date) -> dict[int, StandardVersion]:
    """``standard_in_force`` for many standards in one query: standard id -> its version in force
    on ``on`` (with ``standard`` loaded); a standard with none is absent."""
    wanted = sorted(set(standard_ids))
    if not wanted:
        return {}
    stmt = (
        select(StandardVersion)
        .options(joinedload(StandardVersion.standard))
        .where(StandardVersion.standard_id.in_(wanted), _in_force_clause(on))
        .order_by(StandardVersion.standard_id, StandardVersion.version.desc())
    )
    out: dict[int, StandardVersion] = {}
    for version in session.scalars(stmt):
        out.setdefault(version.standard_id, version)
    return out


def standard_by_code(session: Session, code: str) -> ServiceStandard | None:
    return session.scalar(select(ServiceStandard).where(ServiceStandard.code == code))


def standards_in_force(
    session: Session,
    on: date,
    service_id: int | None = None,
    tier_id: int | None = None,
    customer_id: int | None = None,
) -> list[StandardVersion]:
    """Versions in force on ``on`` of active standards, ordered by standard code.

    ``tier_id``/``customer_id`` given: the tier's/customer's own standards plus the general ones
    (NULL tier/customer); not given: no filter on that column.
    """
    stmt = (
        select(StandardVersion)
        .join(ServiceStandard, StandardVersion.standard_id == ServiceStandard.id)
        .options(joinedload(StandardVersion.standard))
        .where(ServiceStandard.active.is_(True), _in_force_clause(on))
        .order_by(ServiceStandard.code)
    )
    if service_id is not None:
        stmt = stmt.where(ServiceStandard.service_id == service_id)
    if tier_id is not None:
        stmt = stmt.where(or_(ServiceStandard.tier_id == tier_id, ServiceStandard.tier_id.is_(None)))
    if customer_id is not None:
        stmt = stmt.where(
            or_(ServiceStandard.customer_id == customer_id, ServiceStandard.customer_id.is_(None))
        )
    return list(session.scalars(stmt).unique())


def _specificity(standard: ServiceStandard) -> int:
    return (2 if standard.customer_id is not None else 0) + (1 if standard.tier_id is not None else 0)


def applicable_standards(
    session: Session, on: date, service_id: int, customer_id: int
) -> list[StandardVersion]:
    """What ``customer_id`` is measured against for ``service_id`` on ``on``.

    Uses the customer's subscription tier; among versions with the same (metric, dimension,
    priority) the most specific standard wins (customer-specific over tier over general).
    A tier-bound standard of another tier never applies.
    """
    tier_id = session.scalar(
        select(Subscription.tier_id).where(
            Subscription.customer_id == customer_id, Subscription.service_id == service_id
        )
    )
    best: dict[tuple[str, str | None, str | None], StandardVersion] = {}
    for version in standards_in_force(session, on, service_id=service_id, customer_id=customer_id):
        standard = version.standard
        if standard.tier_id is not None and standard.tier_id != tier_id:
            continue
        key = (version.metric, version.dimension, version.priority)
        if key not in best or _specificity(standard) > _specificity(best[key].standard):
            best[key] = version
    return sorted(best.values(), key=lambda v: v.standard.code)


def experience_counterpart(session: Session, standard_id: int, on: date) -> StandardVersion | None:
    """The experience target (version in force on ``on``) linked to a KPI standard, if any."""
    standard = session.get(ServiceStandard, standard_id)
    if standard is None or standard.experience_standard_id is None:
        return None
    return standard_in_force(session, standard.experience_standard_id, on)


def is_experience(version: StandardVersion) -> bool:
    """A standard measured by a perception means rather than a KPI feed."""
    return version.measured_by != "kpi" or version.metric in EXPERIENCE_METRICS


def to_spec(version: StandardVersion) -> StandardSpec:
    """The five-principle check's view of a version. The customer need counts as confirmed once a
    customer representative confirmed the need or the whole version."""
    return StandardSpec(
        code=version.standard.code,
        statement_zh=version.statement_zh or "",
        statement_en=version.statement_en or "",
        metric=version.metric or "",
        measured_by=version.measured_by or "",
        comparator=version.comparator or "",
        target=version.target,
        unit=version.unit,
        window=version.window,
        time_limit_minutes=version.time_limit_minutes,
        procedure=version.procedure,
        customer_need=version.customer_need,
        need_confirmed_by_customer=(
            version.need_confirmed_at is not None or version.customer_confirmed_at is not None
        ),
    )


def spec_from_content(code: str, content: Any, need_confirmed: bool) -> StandardSpec:
    """The check's view of unsaved content (a VersionDef from a form or API body)."""
    return StandardSpec(
        code=code,
        statement_zh=content.statement_zh or "",
        statement_en=content.statement_en or "",
        metric=content.metric or "",
        measured_by=content.measured_by or "",
        comparator=content.comparator or "",
        target=content.target,
        unit=content.unit,
        window=content.window,
        time_limit_minutes=content.time_limit_minutes,
        procedure=content.procedure,
        customer_need=content.customer_need,
        need_confirmed_by_customer=need_confirmed,
    )


def check_version(version: StandardVersion, history: History | None = None) -> PrincipleReport:
    """Run the five-principle check (scoring.principles.check_principles) on a stored version."""
    return check_principles(to_spec(version), history)
