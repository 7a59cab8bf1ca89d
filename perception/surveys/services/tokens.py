"""Personal survey links: random tokens stored only as hashes, checked without being consumed,
guessing counted per address (in the shared database), and signed unsubscribe links.

A token is 256 random bits (``secrets.token_urlsafe(32)``, RFC 4086 §6.3 "sufficient
randomness"); only its SHA-256 is stored, as for API tokens. Opening a link never consumes it:
the invitation is used up only when a response is stored (see ``submit``). Wrong, expired
and used links show the same page; only a token that matches no link is a guess (``UNKNOWN``):
a respondent re-opening their used link is not guessing. Guesses are counted per client address
(``perception.core.throttle``, one atomic statement); an address over the limit gets 429 for
unknown tokens, while a real link from it still opens, so one guesser or impatient respondent
behind a company's shared address does not block their colleagues (issue 18).
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from perception.core import throttle
from perception.core.transaction import Db, core
from perception.surveys.models import (
    Campaign,
    CampaignStatus,
    Invitation,
    SurveyLink,
    SurveyVersion,
    table_of,
)
from perception.surveys.services.settings import SurveySettings

TOKEN_BYTES = 32


class LinkOutcome(enum.StrEnum):
    OK = "ok"
    INVALID = "invalid"  # expired or already used: the same page as UNKNOWN, not a guess
    UNKNOWN = "unknown"  # no such link: a guess
    CLOSED = "closed"
    NOT_YET = "not_yet"


@dataclass(frozen=True)
class LinkCheck:
    outcome: LinkOutcome
    invitation_id: int | None = None
    campaign_id: int | None = None
    version_id: int | None = None
    fingerprint: str | None = None
    closes_at: datetime | None = None
    opens_at: datetime | None = None


def new_token() -> tuple[str, str]:
    """(token for the link, SHA-256 hex to store)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def issue_link(session: Session, invitation: Invitation, now: datetime) -> str:
    """A new link for the invitation; returns the token (shown once, in the email)."""
    token, digest = new_token()
    session.add(
        SurveyLink(
            invitation_id=invitation.id, token_hash=digest, created_at=now, expires_at=invitation.expires_at
        )
    )
    session.flush()
    return token


def note_guess(session: Db, address: str, now: datetime, settings: SurveySettings) -> bool:
    """Count an unknown token from ``address``; True when the address is over its limit."""
    window = timedelta(minutes=settings.token_failure_minutes)
    return throttle.hit(session, f"survey-guess:{address}", now, window) > settings.token_max_failures


_LINK, _INV, _CAMP, _VER = (table_of(m) for m in (SurveyLink, Invitation, Campaign, SurveyVersion))
# Built once as Core statements: opening a link runs them for every respondent (issue 19).
LINK = (
    select(_LINK.c.expires_at, _INV.c.id, _INV.c.expires_at, _INV.c.used_at, _CAMP.c.id, _CAMP.c.status,
           _CAMP.c.opens_at, _CAMP.c.closes_at, _VER.c.id, _VER.c.fingerprint)
    .join(_INV, _INV.c.id == _LINK.c.invitation_id)
    .join(_CAMP, _CAMP.c.id == _INV.c.campaign_id)
    .join(_VER, _VER.c.id == _CAMP.c.version_id)
    .where(_LINK.c.token_hash == bindparam("token_hash"))
)  # fmt: skip
OPENED = (
    update(_INV)
    .where(_INV.c.id == bindparam("invitation_id"), _INV.c.opened_at.is_(None))
    .values(opened_at=bindparam("now"))
)


def check_link(session: Db, token: str, now: datetime) -> LinkCheck:
    """What opening this link should do (reads only; the caller counts guesses, records openings)."""
    if not token or len(token) > 128:
        return LinkCheck(LinkOutcome.UNKNOWN)
    row = core(session).execute(LINK, {"token_hash": hash_token(token)}).first()
    if row is None:
        return LinkCheck(LinkOutcome.UNKNOWN)
    link_expires, inv_id, inv_expires, used_at, cid, status, opens_at, closes_at, vid, fingerprint = row
    if used_at is not None or link_expires <= now or inv_expires <= now:
        return LinkCheck(LinkOutcome.INVALID)
    found = (inv_id, cid, vid, fingerprint, closes_at, opens_at)
    if status == CampaignStatus.CLOSED or closes_at <= now:
        return LinkCheck(LinkOutcome.CLOSED, *found)
    if status != CampaignStatus.OPEN or opens_at > now:
        return LinkCheck(LinkOutcome.NOT_YET, *found)
    return LinkCheck(LinkOutcome.OK, *found)


def mark_opened(session: Db, invitation_id: int, now: datetime) -> None:
    core(session).execute(OPENED, {"invitation_id": invitation_id, "now": now})


def _unsubscribe_serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="perception.survey-unsubscribe")


def unsubscribe_token(secret_key: str, contact_id: int) -> str:
    """A signed, non-expiring token naming the contact (an unsubscribe link must keep working)."""
    return _unsubscribe_serializer(secret_key).dumps({"c": contact_id})


def read_unsubscribe_token(secret_key: str, token: str) -> int | None:
    try:
        data = _unsubscribe_serializer(secret_key).loads(token)
    except BadSignature:
        return None
    value = data.get("c") if isinstance(data, dict) else None
    return value if isinstance(value, int) else None
