"""Follow-up routing rules as the organiser or the system owner keeps them.

A rule names a region, a service or both, and the user who owns the follow-up tasks they match
(``followup_routing.owner_for`` applies them, the most specific first). Who may keep which rule:
a user bound to a region keeps only rules of that region; a rule for every region (service only)
needs someone who sees every region. The owner must be active, allowed to work follow-up tasks,
and able to see the rule's region, or the task would go to someone who cannot open it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core.authz import Permission, can, region_scope, scoped
from perception.core.errors import Problems
from perception.core.models.auth import User
from perception.core.models.org import Region
from perception.setup.models.catalog import Service
from perception.surveys.models import FollowUpRoute
from perception.surveys.services.errors import SurveyError


def routes(session: Session, user: User) -> list[FollowUpRoute]:
    """The rules the user may see: their region's, or all for someone who sees every region."""
    stmt = select(FollowUpRoute).order_by(FollowUpRoute.region_id, FollowUpRoute.service_id, FollowUpRoute.id)
    return list(session.scalars(scoped(stmt, FollowUpRoute, user)))


def possible_owners(session: Session, user: User) -> list[User]:
    """Active users who may work follow-ups, within what the editor sees."""
    regions = region_scope(user)
    people = session.scalars(select(User).where(User.active.is_(True)).order_by(User.username)).all()
    return [
        p
        for p in people
        if can(Permission.MANAGE_FOLLOWUPS, p)
        and p.customer_id is None
        and (regions is None or p.region_id is None or p.region_id in regions)
    ]


def save_route(
    session: Session, editor: User, *, region_id: int | None, service_id: int | None, owner_id: int | None
) -> FollowUpRoute:
    """Add a rule, or give an existing rule of the same region and service its new owner."""
    problems = Problems(SurveyError)
    regions = region_scope(editor)
    if region_id is None and service_id is None:
        problems.add("region_id", "请选择区域或服务（或两者）", "Choose a region, a service or both.")
    if region_id is not None and session.get(Region, region_id) is None:
        problems.add("region_id", "没有这个区域", "No such region.")
    elif regions is not None and region_id not in regions:
        problems.add(
            "region_id",
            "您只能为自己的区域设置规则",
            "You can set rules for your own region only.",
        )
    if service_id is not None and session.get(Service, service_id) is None:
        problems.add("service_id", "没有这个服务", "No such service.")
    owner = session.get(User, owner_id) if owner_id else None
    if owner is None or owner not in possible_owners(session, editor):
        problems.add(
            "owner_id",
            "请选择一位可处理跟进任务的在职用户",
            "Choose an active user who may work follow-up tasks.",
        )
    elif owner.region_id is not None and owner.region_id != region_id:
        problems.add(
            "owner_id",
            "该用户看不到此规则所涉区域的任务，请选择该区域或全国范围的用户",
            "This user cannot see the tasks of the rule's region: choose someone of that region "
            "or someone who sees every region.",
        )
    problems.raise_if_any()
    assert owner is not None
    rule = session.scalar(
        select(FollowUpRoute).where(
            FollowUpRoute.region_id.is_(None) if region_id is None else FollowUpRoute.region_id == region_id,
            FollowUpRoute.service_id.is_(None)
            if service_id is None
            else FollowUpRoute.service_id == service_id,
        )
    )
    if rule is None:
        rule = FollowUpRoute(region_id=region_id, service_id=service_id, owner_id=owner.id)
        session.add(rule)
    else:
        rule.owner_id = owner.id
    session.flush()
    return rule


def delete_route(session: Session, editor: User, route_id: int) -> bool:
    """Remove a rule the editor may see; False when there is none."""
    rule = session.scalar(
        scoped(select(FollowUpRoute).where(FollowUpRoute.id == route_id), FollowUpRoute, editor)
    )
    if rule is None:
        return False
    session.delete(rule)
    session.flush()
    return True
