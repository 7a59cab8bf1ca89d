"""Follow-up tasks routed like work: each gets an owner, the owner is told, overdue tasks escalate.

A low score created a task nobody was assigned to or told about, and an overdue task raised
nothing. Rules, in order (the first that names an active user wins):
1. a routing rule (``FollowUpRoute``) of the task's region and service;
2. a rule of the task's region (any service);
3. a rule of the task's service (any region): a specialist for a service everywhere;
4. the lead of the task's region's collection point (the regional team does the callback);
5. that collection point's designated organiser;
6. nobody: the task stays unassigned and escalates at once to the system owner(s).
A region's own rule comes before a service-wide one because the region's team answers for its
customers; a rule naming region and service is the most specific of all. The task's service is
its response's (a post-ticket survey knows it; a relationship survey does not).
A task is assigned once (people may reassign it later by hand); a mail tells the new owner what
to do and by when: at once, through the ``assign_followup`` job the answer asks for when its
task is created, and otherwise on the hourly ``route_followups`` run. A task still open after
its due day escalates once: a mail to the region's organiser and the system owner(s), and the
task shows as overdue wherever it is listed.

The operations never send mail themselves: they return the messages to send, so the caller
(a job) decides how to deliver them after the data is committed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core.models.auth import Role, User
from perception.core.models.org import CollectionPoint, Region
from perception.surveys.models import FollowUpRoute, FollowUpStatus, FollowUpTask, Response


@dataclass(frozen=True)
class Notice:
    """One mail to send: to whom, about which task, and why ("assigned" or "overdue")."""

    to: str
    language: str
    task_id: int
    reason: str
    region: str
    due_on: date | None


def owner_for(session: Session, region_id: int, service_id: int | None = None) -> User | None:
    """The user a task of this region (and service) goes to (rules 1 to 5), or None."""
    for ruled in _rule_owners(session, region_id, service_id):
        if ruled.active:
            return ruled
    points = session.scalars(
        select(CollectionPoint)
        .where(CollectionPoint.region_id == region_id, CollectionPoint.active.is_(True))
        .order_by(CollectionPoint.code)
    ).all()
    for attribute in ("lead_id", "organiser_id"):
        for point in points:
            user_id = getattr(point, attribute)
            user = session.get(User, user_id) if user_id else None
            if user is not None and user.active:
                return user
    return None


def _rule_owners(session: Session, region_id: int, service_id: int | None) -> list[User]:
    """The owners of the rules that match, most specific first."""
    wanted: list[tuple[int | None, int | None]] = [(region_id, None)]
    if service_id is not None:
        wanted = [(region_id, service_id), (region_id, None), (None, service_id)]
    rules = {
        (rule.region_id, rule.service_id): rule
        for rule in session.scalars(
            select(FollowUpRoute).where(
                (FollowUpRoute.region_id == region_id) | FollowUpRoute.region_id.is_(None)
            )
        )
    }
    owners = []
    for key in wanted:
        rule = rules.get(key)
        user = session.get(User, rule.owner_id) if rule is not None else None
        if user is not None:
            owners.append(user)
    return owners


def system_owners(session: Session) -> list[User]:
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)).all()
    return [u for u in users if u.has_role(Role.SYSTEM_OWNER)]


def assign_new_tasks(session: Session, now: datetime, task_ids: Iterable[int] | None = None) -> list[Notice]:
    """Give every open, never-assigned task (or those of ``task_ids``) its owner; the notices tell
    each owner. Rows another run is assigning are skipped (PostgreSQL), so nobody is told twice."""
    notices: list[Notice] = []
    stmt = (
        select(FollowUpTask, Response.service_id)
        .join(Response, Response.id == FollowUpTask.response_id)
        .where(FollowUpTask.assignee_id.is_(None), FollowUpTask.assigned_at.is_(None))
        .where(FollowUpTask.status != FollowUpStatus.DONE)
        .order_by(FollowUpTask.id)
        .with_for_update(of=FollowUpTask, skip_locked=True)
    )
    if task_ids is not None:
        stmt = stmt.where(FollowUpTask.id.in_(list(task_ids)))
    owners: dict[tuple[int, int | None], User | None] = {}
    for task, service_id in session.execute(stmt).all():
        key = (task.region_id, service_id)
        if key not in owners:
            owners[key] = owner_for(session, task.region_id, service_id)
        owner = owners[key]
        task.assigned_at = now  # tried once: a task nobody could take is escalated, not retried
        if owner is None:
            notices += _escalation(session, task, [], now)
            continue
        task.assignee_id = owner.id
        if owner.email:
            notices.append(_notice(session, owner, task, "assigned"))
    session.flush()
    return notices


def escalate_overdue(session: Session, today: date, now: datetime) -> list[Notice]:
    """Escalate, once, each task still open after its due day."""
    tasks = session.scalars(
        select(FollowUpTask)
        .where(FollowUpTask.status != FollowUpStatus.DONE, FollowUpTask.escalated_at.is_(None))
        .where(FollowUpTask.due_on.is_not(None), FollowUpTask.due_on < today)
        .order_by(FollowUpTask.id)
    ).all()
    notices: list[Notice] = []
    for task in tasks:
        organisers = [
            session.get(User, p.organiser_id)
            for p in session.scalars(
                select(CollectionPoint).where(CollectionPoint.region_id == task.region_id)
            )
            if p.organiser_id
        ]
        notices += _escalation(session, task, [u for u in organisers if u is not None and u.active], now)
    session.flush()
    return notices


def is_overdue(task: FollowUpTask, today: date) -> bool:
    return task.status != FollowUpStatus.DONE and task.due_on is not None and task.due_on < today


def _escalation(session: Session, task: FollowUpTask, people: Iterable[User], now: datetime) -> list[Notice]:
    task.escalated_at = now
    seen: set[int] = set()
    notices = []
    for user in [*people, *system_owners(session)]:
        if user.id in seen or not user.email:
            continue
        seen.add(user.id)
        notices.append(_notice(session, user, task, "overdue"))
    return notices


def _notice(session: Session, user: User, task: FollowUpTask, reason: str) -> Notice:
    region = session.get(Region, task.region_id)
    zh = (user.language or "zh_CN").startswith("zh")
    name = (region.name_zh if zh else region.name_en) if region else str(task.region_id)
    return Notice(user.email or "", "zh" if zh else "en", task.id, reason, name, task.due_on)
