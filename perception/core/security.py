"""Password hashing (argon2id) and API token secrets (sign-in throttling: perception.core.throttle)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from perception.core.models.auth import User

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
