"""Password hashing (argon2id), API token secrets and login rate limiting."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from perception.core.models.auth import LoginAttempt, User
from perception.core.models.base import utcnow

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    """Check a password; transparently upgrade the hash when the parameters changed."""
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return True


def password_problem(password: str) -> tuple[str, str] | None:
    """Why the password is unacceptable (zh, en), or None (NIST 800-63B: length over composition)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"至少 {MIN_PASSWORD_LENGTH} 个字符", f"at least {MIN_PASSWORD_LENGTH} characters"
    return None


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the username is unknown, so timing does not reveal accounts.
    Made on first use, not at import: an argon2 hash costs every command's start-up (issue 19)."""
    return _hasher.hash(secrets.token_urlsafe(16))


def burn_time() -> None:
    with contextlib.suppress(VerificationError):
        _hasher.verify(_dummy_hash(), "not-the-password")


def new_token_secret() -> tuple[str, str, str]:
    """A new API token: (secret shown once, its SHA-256 hash to store, a short prefix to display)."""
    secret = "pcp_" + secrets.token_urlsafe(32)  # 256 random bits
    return secret, hash_token(secret), secret[:10]


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def recent_failures(session: Session, *, username: str | None, address: str | None, since: datetime) -> int:
    stmt = select(func.count(LoginAttempt.id)).where(
        LoginAttempt.success.is_(False), LoginAttempt.at >= since
    )
    if username is not None:
        stmt = stmt.where(LoginAttempt.username == username)
    if address is not None:
        stmt = stmt.where(LoginAttempt.address == address)
    return int(session.scalar(stmt) or 0)


def note_attempt(session: Session, username: str, address: str, success: bool) -> None:
    session.add(LoginAttempt(username=username[:80], address=address[:64], at=utcnow(), success=success))
    session.flush()
