"""Answers so far on an anonymous link, kept on the server under an opaque key.

The respondent's session cookie holds only the key (256 random bits); the database holds its
SHA-256, the campaign, the answers, the page and the day of the last save. A cookie cannot carry
a long answer (4 KB, about 1,230 Chinese characters once signed), a row can carry any answer the
questionnaire accepts. Nothing here names a person, an address or a time finer than the day, as
for the anonymous response itself.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from perception.surveys.models import AnonymousDraft, table_of

DRAFT_DAYS = 30  # an anonymous draft not saved for this long is purged
_DRAFT = table_of(AnonymousDraft)
LOAD = select(_DRAFT.c.answers, _DRAFT.c.page_index).where(
    _DRAFT.c.key_hash == bindparam("key_hash"), _DRAFT.c.campaign_id == bindparam("campaign_id")
)


def new_key() -> str:
    return secrets.token_urlsafe(32)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def load(session: Session, key: object, campaign_id: int) -> tuple[dict[str, Any], int | None]:
    """(answers, page) saved under ``key`` for the campaign; ({}, None) for none or a bad key."""
    if not isinstance(key, str) or not key or len(key) > 64:
        return {}, None
    row = session.connection().execute(LOAD, {"key_hash": _hash(key), "campaign_id": campaign_id}).first()
    return (dict(row[0] or {}), row[1]) if row is not None else ({}, None)


def save(
    session: Session, key: str, campaign_id: int, answers: dict[str, object], page: int, today: date
) -> None:
    """Keep the answers so far under ``key`` (insert the first time, update after)."""
    values = {"answers": answers, "page_index": page, "saved_on": today}
    digest = _hash(key)
    done = session.execute(
        update(_DRAFT)
        .where(_DRAFT.c.key_hash == digest, _DRAFT.c.campaign_id == campaign_id)
        .values(**values)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        session.execute(insert(_DRAFT), [{"key_hash": digest, "campaign_id": campaign_id, **values}])


def discard(session: Session, key: object) -> None:
    if isinstance(key, str) and key:
        session.execute(delete(_DRAFT).where(_DRAFT.c.key_hash == _hash(key)))


def purge(session: Session, today: date) -> int:
    """Drop drafts not saved for ``DRAFT_DAYS`` days."""
    result = session.execute(delete(_DRAFT).where(_DRAFT.c.saved_on < today - timedelta(days=DRAFT_DAYS)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
