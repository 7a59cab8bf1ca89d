"""API authentication: a Bearer token only. Session cookies are ignored here, which is why the API
can be exempt from CSRF: a browser never sends a Bearer token on its own."""

from __future__ import annotations

from typing import Any

from flask import g, request

from perception.api import bp
from perception.api.errors import problem_response
from perception.core.audit import record
from perception.core.authz import KeyScope
from perception.core.extensions import csrf, orm
from perception.core.models.auth import ApiToken, Role
from perception.core.models.base import utcnow
from perception.core.transaction import write_afterwards
from perception.core.users import stamp_token_use, token_for_secret, token_use_due

csrf.exempt(bp)


@bp.before_request
def authenticate() -> Any:
    g.user = None
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return problem_response(
            401,
            "Missing or malformed Authorization header; use 'Bearer <token>'.",
            "缺少或格式错误的 Authorization 请求头；请使用 “Bearer <令牌>”。",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = token_for_secret(orm(), secret.strip(), utcnow())
    if token is None:
        summary = f"{request.method} {request.path}"
        write_afterwards(lambda session: record(session, "api_auth_failed", summary=summary))
        return problem_response(
            401,
            "Invalid, expired or revoked token.",
            "令牌无效、已过期或已被吊销。",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    g.user = token.user
    g.key_scope = key_scope_of(token)
    token_id, summary = token.id, f"{request.method} {request.path}"
    # Every use is audited, after the request in its own short write (a reading call stays a reader).
    write_afterwards(
        lambda session: record(
            session, "api_key_used", object_type="ApiToken", object_id=token_id, summary=summary
        )
    )
    if token_use_due(token, utcnow()):
        write_afterwards(lambda session: stamp_token_use(session, token_id, utcnow()))
    if token.read_only and request.method not in READING_METHODS:
        return problem_response(
            403,
            "This API key may only read.",
            "此 API 密钥只能读取。",
        )
    return None


READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def key_scope_of(token: ApiToken) -> KeyScope:
    roles = frozenset(Role(r) for r in token.scope_roles.split(",") if r.strip() in Role.__members__.values())
    return KeyScope(roles, token.scope_region_ids, token.scope_customer_id, token.read_only)
