"""Response-rate tracking by campaign, region and tier.

Response rate = responses / invitations sent (AAPOR RR1 without eligibility adjustment: every
invited contact counts in the denominator). An anonymous campaign has no denominator, so only its
response count is shown. Figures are limited to the regions the user may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from perception.core.authz import region_scope
from perception.core.models.auth import User
from perception.core.models.org import Region
from perception.setup.models.catalog import ServiceTier
from perception.surveys.models import Campaign, Channel, Invitation, Response

GROUPINGS = ("campaign", "region", "tier")


@dataclass(frozen=True)
class Rate:
    key: int | None
    label_zh: str
    label_en: str
    invited: int | None
    responded: int

    @property
    def rate(self) -> float | None:
        if not self.invited:
            return None
        return self.responded / self.invited


def _label(session: Session, by: str, key: int | None) -> tuple[str, str]:
    if key is None:
        return ("未指定", "Not specified") if by == "tier" else ("全部", "All")
    obj = session.get(Region, key) if by == "region" else session.get(ServiceTier, key)
    return (obj.name_zh, obj.name_en) if obj is not None else (str(key), str(key))


def _anonymous(
    session: Session, campaign: Campaign, by: str, regions: frozenset[int] | None
) -> list[tuple[Any, Any, int]]:
    column = Response.region_id if by == "region" else Response.tier_id if by == "tier" else None
    key: Any = column if column is not None else literal(None)
    stmt = select(key, func.count(Response.id)).where(Response.campaign_id == campaign.id)
    if regions is not None:
        stmt = stmt.where(Response.region_id.in_(regions))
    if column is not None:
        stmt = stmt.group_by(column)
    return [(k, None, int(n)) for k, n in session.execute(stmt)]


def _personal(
    session: Session, campaign: Campaign, by: str, regions: frozenset[int] | None
) -> list[tuple[Any, Any, int]]:
    column = Invitation.region_id if by == "region" else Invitation.tier_id if by == "tier" else None
    key: Any = column if column is not None else literal(None)
    used = func.sum(case((Invitation.used_at.is_not(None), 1), else_=0))
    stmt = select(key, func.count(Invitation.sent_at), used).where(Invitation.campaign_id == campaign.id)
    if regions is not None:
        stmt = stmt.where(Invitation.region_id.in_(regions))
    if column is not None:
        stmt = stmt.group_by(column)
    return [(k, int(n or 0), int(r or 0)) for k, n, r in session.execute(stmt)]


def campaign_rates(session: Session, campaign: Campaign, by: str, user: User | None) -> list[Rate]:
    """Rates of one campaign grouped by "region" or "tier" (or the whole campaign: "campaign")."""
    regions = region_scope(user) if user is not None else None
    reader = _anonymous if campaign.channel == Channel.ANONYMOUS else _personal
    rows = reader(session, campaign, by, regions)
    if by == "campaign" and not rows:
        rows = [(None, None if campaign.channel == Channel.ANONYMOUS else 0, 0)]
    out = [Rate(key, *_label(session, by, key), invited, responded) for key, invited, responded in rows]
    return sorted(out, key=lambda r: r.label_en or "")


def overview(session: Session, campaigns: list[Campaign], user: User | None) -> dict[int, Rate]:
    """The whole-campaign rate of each campaign, in two grouped queries."""
    regions = region_scope(user) if user is not None else None
    ids = [c.id for c in campaigns]
    if not ids:
        return {}
    inv = select(
        Invitation.campaign_id,
        func.count(Invitation.sent_at),
        func.sum(case((Invitation.used_at.is_not(None), 1), else_=0)),
    ).where(Invitation.campaign_id.in_(ids))
    resp = select(Response.campaign_id, func.count(Response.id)).where(Response.campaign_id.in_(ids))
    if regions is not None:
        inv = inv.where(Invitation.region_id.in_(regions))
        resp = resp.where(Response.region_id.in_(regions))
    invited = {
        cid: (int(n or 0), int(r or 0)) for cid, n, r in session.execute(inv.group_by(Invitation.campaign_id))
    }
    answered = {cid: int(n) for cid, n in session.execute(resp.group_by(Response.campaign_id))}
    out = {}
    for c in campaigns:
        if c.channel == Channel.ANONYMOUS:
            out[c.id] = Rate(c.id, c.name_zh, c.name_en, None, answered.get(c.id, 0))
        else:
            n, r = invited.get(c.id, (0, 0))
            out[c.id] = Rate(c.id, c.name_zh, c.name_en, n, r)
    return out
