"""API authentication: a Bearer token only. Session cookies are ignored here, which is why the API
can be exempt from CSRF: a browser never sends a Bearer token on its own."""

from __future__ import annotations

from typing import Any

from flask import g, request

from perception.api import bp
from perception.core.audit import record
from perception.core.extensions import csrf, db, orm
from perception.core.users import user_for_token

csrf.exempt(bp)


@bp.before_request
def authenticate() -> Any:
    g.user = None
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        from perception.api.errors import api_error

        return api_error(401, "Missing or malformed Authorization header; use 'Bearer <token>'.")
    user = user_for_token(orm(), secret.strip())
    if user is None:
        record(orm(), "api_auth_failed", summary=f"{request.method} {request.path}")
        db.session.commit()
        from perception.api.errors import api_error

        return api_error(401, "Invalid, expired or revoked token.")
    g.user = user
    return None
