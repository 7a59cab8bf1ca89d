"""Test links: a survey owner tries a version (or a campaign) through the respondent's real pages
(open the link, the pages, the answers, the thank-you page) without touching any figure.

A test link is made like a real one (256 random bits, only the SHA-256 stored, an expiry, used
once: one conditional UPDATE sets ``used_at`` with the answers) but lives in its own table,
``SurveyTestLink``. The answers it receives stay on that row: they never become a ``Response``,
an analysis fact, a follow-up, a webhook, a response rate or a per-question result, and a test link
has no contact, so no frequency cap or reminder sees it. A test works on a draft or closed campaign
too: trying a survey before it opens is the point.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from perception.core.audit import record
from perception.core.transaction import Db, core
from perception.surveys.models import Campaign, SurveyTestLink, SurveyVersion, table_of
from perception.surveys.services.settings import SurveySettings
from perception.surveys.services.tokens import hash_token, new_token


class TrialOutcome(enum.StrEnum):
    OK = "ok"
    INVALID = "invalid"  # used or expired: the same page as a real link's
    UNKNOWN = "unknown"  # no such test link


@dataclass(frozen=True)
class TrialCheck:
    outcome: TrialOutcome
    link_id: int | None = None
    version_id: int | None = None
    fingerprint: str | None = None


@dataclass(frozen=True)
class TrialState:
    open: bool
    used: bool = False
    answers: dict[str, Any] = field(default_factory=dict)
    page: int | None = None
    campaign_id: int | None = None


def create_test_link(
    session: Session,
    version: SurveyVersion,
    campaign: Campaign | None,
    *,
    user_id: int | None,
    now: datetime,
    settings: SurveySettings,
) -> tuple[SurveyTestLink, str]:
    """A new test link and its token (shown once, to the owner who made it)."""
    token, digest = new_token()
    link = SurveyTestLink(
        version_id=version.id,
        campaign_id=campaign.id if campaign is not None else None,
        region_id=campaign.region_id if campaign is not None else None,
        token_hash=digest,
        created_by_id=user_id,
        created_at=now,
        expires_at=now + timedelta(days=settings.link_days),
    )
    session.add(link)
    session.flush()
    record(
        session, "survey_test_link", object_type="Campaign" if campaign else "SurveyVersion",
        object_id=campaign.id if campaign else version.id,
        region_id=campaign.region_id if campaign else None, summary=f"test link {link.id} created",
    )  # fmt: skip
    return link, token


_LINK, _VER = table_of(SurveyTestLink), table_of(SurveyVersion)
CHECK = (
    select(_LINK.c.id, _LINK.c.expires_at, _LINK.c.used_at, _VER.c.id, _VER.c.fingerprint)
    .join(_VER, _VER.c.id == _LINK.c.version_id)
    .where(_LINK.c.token_hash == bindparam("token_hash"))
)


def check_test_link(session: Db, token: str, now: datetime) -> TrialCheck:
    """What opening this token as a test link should do (reads only)."""
    if not token or len(token) > 128:
        return TrialCheck(TrialOutcome.UNKNOWN)
    row = core(session).execute(CHECK, {"token_hash": hash_token(token)}).first()
    if row is None:
        return TrialCheck(TrialOutcome.UNKNOWN)
    link_id, expires_at, used_at, version_id, fingerprint = row
    if used_at is not None or expires_at <= now:
        return TrialCheck(TrialOutcome.INVALID)
    return TrialCheck(TrialOutcome.OK, link_id, version_id, fingerprint)


def mark_opened(session: Db, link_id: int, now: datetime) -> None:
    session.execute(
        update(_LINK).where(_LINK.c.id == link_id, _LINK.c.opened_at.is_(None)).values(opened_at=now)
    )


def state_of(session: Db, link_id: int, now: datetime) -> TrialState:
    row = session.execute(
        select(
            _LINK.c.expires_at, _LINK.c.used_at, _LINK.c.draft, _LINK.c.page_index, _LINK.c.campaign_id
        ).where(_LINK.c.id == link_id)
    ).first()
    if row is None:
        return TrialState(False)
    expires_at, used_at, draft, page, campaign_id = row
    if used_at is not None or expires_at <= now:
        return TrialState(False, used_at is not None, campaign_id=campaign_id)
    return TrialState(True, False, dict(draft or {}), page, campaign_id)


def save_test_draft(
    session: Db, link_id: int, answers: dict[str, object], page_index: int, now: datetime
) -> None:
    session.execute(
        update(_LINK)
        .where(_LINK.c.id == link_id, _LINK.c.used_at.is_(None), _LINK.c.expires_at > now)
        .values(draft=answers, page_index=page_index)
    )


def submit_test(session: Db, link_id: int, clean: dict[str, object], language: str, now: datetime) -> bool:
    """Keep the test answers and use the link up, once; False when it was used or has expired."""
    done = session.execute(
        update(_LINK)
        .where(_LINK.c.id == link_id, _LINK.c.used_at.is_(None), _LINK.c.expires_at > now)
        .values(used_at=now, answers=clean, language=language, draft=None, page_index=None)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def links_of(
    session: Session, *, version_id: int | None = None, campaign_id: int | None = None
) -> list[SurveyTestLink]:
    """The test links of a version (made on its page) or of a campaign, newest first."""
    stmt = select(SurveyTestLink)
    if campaign_id is not None:
        stmt = stmt.where(SurveyTestLink.campaign_id == campaign_id)
    else:
        stmt = stmt.where(SurveyTestLink.version_id == version_id, SurveyTestLink.campaign_id.is_(None))
    return list(session.scalars(stmt.order_by(SurveyTestLink.id.desc()).limit(50)))
