"""Raising alerts once per occurrence, to the owners concerned, in-app and by email.

An alert's ``occurrence_key`` (e.g. ``missing_reports:CP-BJ:2026-03-02``) is unique: raising the
same occurrence again does nothing, however often the check runs. The owners concerned are the
system owners, the managers who see the alert's region (region-bound to it or to no region), the
service's owner and, for missing reports, the collection point's lead and organiser. Each gets an
in-app AlertRecipient row and an email (perception.core.mail.send_email: queued for the worker, or sent
at once without Redis) with the link to the evidence, made absolute with the caller's ``base_url``
(the PUBLIC_BASE_URL setting).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from perception.analysis.models import Alert, AlertRecipient, AlertStatus
from perception.core.models.auth import Role, User, UserRole
from perception.core.models.base import utcnow
from perception.core.webhooks import emit
from perception.setup.models.catalog import Service


@dataclass(frozen=True)
class AlertSpec:
    kind: str
    occurrence_key: str
    message_zh: str
    message_en: str
    evidence_url: str
    region_id: int | None = None
    service_id: int | None = None
    period_start: date | None = None
    extra_recipients: tuple[int, ...] = ()


def owners_concerned(session: Session, spec: AlertSpec) -> list[User]:
    stmt = (
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.active.is_(True), UserRole.role.in_([Role.SYSTEM_OWNER.value, Role.MANAGER.value]))
    )
    if spec.region_id is not None:
        stmt = stmt.where(or_(User.region_id.is_(None), User.region_id == spec.region_id))
    people = {u.id: u for u in session.scalars(stmt).unique()}
    extra = set(spec.extra_recipients)
    if spec.service_id is not None:
        owner = session.scalar(select(Service.owner_id).where(Service.id == spec.service_id))
        if owner is not None:
            extra.add(owner)
    for user_id in extra - set(people):
        user = session.get(User, user_id)
        if (
            user is not None
            and user.active
            and (spec.region_id is None or user.region_id in (None, spec.region_id))
        ):
            people[user.id] = user
    return sorted(people.values(), key=lambda u: u.id)


def _email(user: User, alert: Alert, base_url: str) -> None:
    from perception.core.mail import send_email

    if not user.email:
        return
    link = base_url.rstrip("/") + alert.evidence_url
    zh_first = (user.language or "zh_CN").startswith("zh")
    first, second = (alert.message_zh, alert.message_en) if zh_first else (alert.message_en, alert.message_zh)
    subject = ("[感知预警] " if zh_first else "[Perception alert] ") + first[:120]
    body = f"{first}\n\n{second}\n\n{'证据' if zh_first else 'Evidence'}: {link}\n"
    send_email(user.email, subject, body)


def raise_alert(session: Session, spec: AlertSpec, *, base_url: str) -> Alert | None:
    """Record the occurrence and notify its owners; None when it was raised before. ``base_url``
    (PUBLIC_BASE_URL) prefixes the evidence link in the emails."""
    if session.scalar(select(Alert.id).where(Alert.occurrence_key == spec.occurrence_key)) is not None:
        return None
    alert = Alert(
        kind=spec.kind,
        occurrence_key=spec.occurrence_key,
        region_id=spec.region_id,
        service_id=spec.service_id,
        period_start=spec.period_start,
        message_zh=spec.message_zh,
        message_en=spec.message_en,
        evidence_url=spec.evidence_url,
    )
    session.add(alert)
    session.flush()
    for user in owners_concerned(session, spec):
        session.add(
            AlertRecipient(alert_id=alert.id, user_id=user.id, emailed_at=utcnow() if user.email else None)
        )
        _email(user, alert, base_url)
    session.flush()
    emit(session, "alert.raised", _alert_event(alert))
    return alert


def _alert_event(alert: Alert) -> dict[str, Any]:
    return {
        "alert_id": alert.id,
        "kind": alert.kind,
        "region_id": alert.region_id,
        "service_id": alert.service_id,
        "period_start": alert.period_start.isoformat() if alert.period_start else None,
        "message_zh": alert.message_zh,
        "message_en": alert.message_en,
    }


def alerts_for(
    session: Session,
    region_ids: frozenset[int] | None,
    *,
    user_id: int | None = None,
    mine_only: bool = False,
    status: str | None = None,
    limit: int = 200,
) -> list[Alert]:
    """Alerts the user may see (their region scope), newest first; ``mine_only``: addressed to them."""
    stmt = (
        select(Alert)
        .options(selectinload(Alert.recipients))
        .order_by(Alert.raised_at.desc(), Alert.id.desc())
    )
    if region_ids is not None:
        stmt = stmt.where(Alert.region_clause(region_ids))
    if mine_only and user_id is not None:
        stmt = stmt.where(
            Alert.id.in_(select(AlertRecipient.alert_id).where(AlertRecipient.user_id == user_id))
        )
    if status is not None:
        stmt = stmt.where(Alert.status == status)
    return list(session.scalars(stmt.limit(limit)))


def acknowledge(session: Session, alert: Alert, user_id: int) -> Alert:
    if alert.status != AlertStatus.ACKNOWLEDGED:
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_by_id = user_id
        alert.acknowledged_at = utcnow()
    for r in alert.recipients:
        if r.user_id == user_id and r.read_at is None:
            r.read_at = utcnow()
    session.flush()
    return alert


def unread_count(session: Session, user_id: int) -> int:
    rows: Iterable[int] = session.scalars(
        select(AlertRecipient.id).where(AlertRecipient.user_id == user_id, AlertRecipient.read_at.is_(None))
    )
    return len(list(rows))
