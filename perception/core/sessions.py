"""Signed-in sessions kept in the database, so that ending one is seen by every node.

The browser's signed cookie carries a random session id (256 bits); the database keeps only its
SHA-256, the user, and the moment the session ends whatever the user does (the absolute
lifetime). Signing out revokes the row: a copy of the cookie taken before is worthless afterwards
(issue 18: it used to stay valid, and since each request renewed it, for ever). A password change
or a disabled account revokes all of the user's sessions.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from perception.core.models.auth import User, UserSession


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()


def open_session(session: Session, user: User, now: datetime, lifetime: timedelta) -> str:
    """A new session for ``user``; returns the id for the cookie (never stored)."""
    session_id = secrets.token_urlsafe(32)
    session.add(
        UserSession(id_hash=_digest(session_id), user_id=user.id, created_at=now, expires_at=now + lifetime)
    )
    session.flush()
    return session_id


def signed_in_user(session: Session, session_id: str, user_id: int, now: datetime) -> User | None:
    """The user of a live session: not revoked, not past its absolute lifetime, account active."""
    if not session_id or len(session_id) > 128:
        return None
    user = session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.id_hash == _digest(session_id),
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
            User.active.is_(True),
        )
    )
    return user


def revoke(session: Session, session_id: str, now: datetime) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.id_hash == _digest(session_id), UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_all(session: Session, user_id: int, now: datetime) -> int:
    """End every session of the user (password changed, account disabled)."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def purge(session: Session, now: datetime, keep: timedelta = timedelta(days=1)) -> int:
    """Forget sessions that ended more than ``keep`` ago (a periodic job)."""
    cutoff = now - keep
    result = session.execute(
        delete(UserSession).where(or_(UserSession.expires_at < cutoff, UserSession.revoked_at < cutoff))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
