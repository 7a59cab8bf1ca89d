"""Request-wide behaviour: who is logged in, idle timeout, security headers, template context."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, flash, g, jsonify, request, session
from flask_babel import gettext as _
from sqlalchemy import text

from perception.core.authz import Permission, can, region_scope
from perception.core.extensions import db, orm
from perception.core.models.auth import User
from perception.web import navigation

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def login_user(user: User) -> None:
    """Start a fresh session (no fixation): only the id, its session version and a timestamp."""
    lang = session.get("lang")
    session.clear()
    session["uid"] = user.id
    session["sv"] = user.session_version
    session["seen"] = int(time.time())
    if lang:
        session["lang"] = lang
    session.permanent = True


def logout_user() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def load_session_user(app: Flask) -> None:
    g.user = None
    uid = session.get("uid")
    if uid is None or request.blueprint == "api":
        return
    now = int(time.time())
    idle = int(app.config["IDLE_TIMEOUT"].total_seconds())
    if now - int(session.get("seen", 0)) > idle:
        logout_user()
        flash(_("You were signed out after 30 minutes without activity."), "info")
        return
    user = orm().get(User, uid)
    if user is None or not user.active or user.session_version != session.get("sv"):
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


def init_app(app: Flask) -> None:
    @app.before_request
    def _load_user() -> None:
        load_session_user(app)

    @app.after_request
    def _security_headers(response: Any) -> Any:
        headers = response.headers
        private = getattr(g, "user", None) is not None or request.path.startswith(("/s/", "/api/"))
        for name, value in SECURITY_HEADERS_PRIVATE if private else SECURITY_HEADERS:
            if name not in headers:
                headers.add(name, value)
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
