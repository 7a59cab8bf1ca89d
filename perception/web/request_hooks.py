"""Request-wide behaviour: who is logged in, idle timeout, security headers, template context."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, current_app, flash, g, jsonify, request, session
from flask_babel import gettext as _
from sqlalchemy import text
from werkzeug.middleware.proxy_fix import ProxyFix

from perception import config
from perception.core import sessions
from perception.core.authz import Permission, can, region_scope
from perception.core.extensions import db, orm
from perception.core.models.auth import User
from perception.core.models.base import utcnow
from perception.web import navigation

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def login_user(user: User) -> None:
    """Start a fresh session (no fixation): a new server-side session, and in the cookie only its
    id, the user's id, the session version and a timestamp for the idle timeout."""
    lang = session.get("lang")
    session.clear()
    lifetime = config.duration(current_app.config["SESSION_ABSOLUTE_LIFETIME"])
    session["sid"] = sessions.open_session(orm(), user, utcnow(), lifetime)
    session["uid"] = user.id
    session["sv"] = user.session_version
    session["seen"] = int(time.time())
    if lang:
        session["lang"] = lang
    session.permanent = True


def logout_user() -> None:
    """Forget the session in this browser (the caller revokes it in the database, if it still lives)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def end_session() -> None:
    """Sign out: revoke the session for every node, then clear the cookie."""
    sid = session.get("sid")
    if isinstance(sid, str):
        sessions.revoke(orm(), sid, utcnow())
    logout_user()


def load_session_user(app: Flask) -> None:
    g.user = None
    uid = session.get("uid")
    if uid is None or request.blueprint == "api":
        return
    now = int(time.time())
    idle = int(config.duration(app.config["IDLE_TIMEOUT"]).total_seconds())
    if now - int(session.get("seen", 0)) > idle:
        logout_user()
        flash(_("You were signed out after 30 minutes without activity."), "info")
        return
    sid = session.get("sid")
    user = sessions.signed_in_user(orm(), sid, uid, utcnow()) if isinstance(sid, str) else None
    if user is None or user.session_version != session.get("sv"):
        logout_user()
        return
    g.user = user
    session["seen"] = now


# Survey links carry tokens: Referrer-Policy never leaks a URL to another site.
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)
SECURITY_HEADERS_PRIVATE = (*SECURITY_HEADERS, ("Cache-Control", "no-store"))


def _trust_proxies(app: Flask) -> None:
    """Read the client's address and scheme from X-Forwarded-For/-Proto only through as many
    proxies as configured: without a proxy anyone could claim any address (and so escape the
    per-address throttles) or claim HTTPS."""
    x_for = int(app.config.get("PROXY_TRUSTED_FOR") or 0)
    x_proto = int(app.config.get("PROXY_TRUSTED_PROTO") or 0)
    if x_for or x_proto:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=x_for, x_proto=x_proto)  # type: ignore[method-assign]


def _refuse_weak_key(app: Flask) -> None:
    """Start-up refuses a weak key under production servers (perception.config); this catches any
    other server: only Werkzeug's development server and the test suite serve with the public
    default key, with which anyone can sign a session cookie as any user."""
    if app.testing or not config.weak_secret_key(app.config):
        return

    @app.before_request
    def _weak_key_outside_development() -> Any:
        if not config.served_by_production_server(request.environ):
            return None
        app.logger.critical("Refusing to serve: SECRET_KEY is the default or shorter than 32 characters.")
        return "Service misconfigured: set PERCEPTION_SECRET_KEY.", 503, {"Content-Type": "text/plain"}


def init_app(app: Flask) -> None:
    seconds = int(app.config.get("HSTS_SECONDS") or 0)
    hsts = f"max-age={seconds}; includeSubDomains" if seconds > 0 else ""
    _trust_proxies(app)
    _refuse_weak_key(app)

    @app.before_request
    def _load_user() -> None:
        load_session_user(app)

    @app.after_request
    def _security_headers(response: Any) -> Any:
        headers = response.headers
        private = getattr(g, "user", None) is not None or request.path.startswith(("/s/", "/api/"))
        # One pass over the response's few headers: ``name in headers`` raised and caught a
        # KeyError for each absent header, on every request (issue 19).
        present = {key.lower() for key, _ in headers.items()}
        for name, value in SECURITY_HEADERS_PRIVATE if private else SECURITY_HEADERS:
            if name.lower() not in present:
                headers.add(name, value)
        # HTTPS as the client sees it: behind a proxy only when PROXY_TRUSTED_PROTO trusts it.
        if request.is_secure and hsts:
            headers.setdefault("Strict-Transport-Security", hsts)
        return response

    @app.context_processor
    def _template_context() -> dict[str, Any]:
        user = getattr(g, "user", None)
        return {
            "current_user": user,
            "can": can,
            "Permission": Permission,
            "nav_sections": navigation.visible_sections(user) if user else [],
            "user_region_scope": region_scope(user) if user else None,
        }

    @app.get("/healthz")
    def healthz() -> Any:
        try:
            orm().execute(text("SELECT 1"))
            status, code = "ok", 200
        except Exception as exc:  # noqa: BLE001 - report any database failure as unhealthy
            app.logger.warning("health check: database unavailable: %s", exc)
            status, code = "unavailable", 503
        from perception import __version__

        return jsonify(
            {
                "status": "ok" if code == 200 else "degraded",
                "database": {"status": status, "dialect": db.engine.dialect.name},
                "jobs": {"backend": "redis" if app.config.get("REDIS_URL") else "in-process"},
                "version": __version__,
            }
        ), code
