"""Which limits a sign-in attempt counts against: the OWASP "device cookie" scheme.

A browser that signed in to an account gets a signed cookie naming that account and a random
device id. Its later attempts on that account count only against the device (``login-device:``),
so however many failures strangers cause, the account's owner still signs in from a browser they
used before (issue 18: 5 wrong passwords from anywhere locked the account for everyone). Browsers
without the cookie count against the account (``login-account:``) and their address
(``login-address:``), as before; a locked device counts as such a stranger.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

COOKIE = "perception_device"
_SALT = "perception.sign-in-device"


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)  # type: ignore[arg-type]


def _max_age() -> int:
    return int(current_app.config["LOGIN_DEVICE_COOKIE_DAYS"]) * 24 * 3600


def known_device(username: str) -> str | None:
    """The id of this browser's device cookie when it was issued for ``username``."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=_max_age())
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("u") != username or not isinstance(data.get("d"), str):
        return None
    return str(data["d"])


def limits_for(username: str, address: str) -> list[Limit]:
    """The counters this attempt reserves a hit on, in a fixed order (no lock-order deadlocks)."""
    config = current_app.config
    device = known_device(username)
    if device is not None:
        return [Limit(f"login-device:{device}", int(config["LOGIN_MAX_FAILURES_PER_DEVICE"]))]
    return [
        Limit(f"login-account:{username}", int(config["LOGIN_MAX_FAILURES_PER_ACCOUNT"])),
        Limit(f"login-address:{address}", int(config["LOGIN_MAX_FAILURES_PER_ADDRESS"])),
    ]


def remember_device(response: Response, username: str) -> None:
    """After a successful sign-in: this browser is now known for ``username``."""
    device = known_device(username) or secrets.token_urlsafe(16)
    response.set_cookie(
        COOKIE,
        _serializer().dumps({"u": username, "d": device}),
        max_age=_max_age(),
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
    )
