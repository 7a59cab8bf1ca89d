"""Error pages in the user's language and JSON errors for the API; never a traceback."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from perception.core import transaction


def wants_json() -> bool:
    return (
        request.path.startswith("/api/")
        or request.path == "/healthz"
        or (request.accept_mimetypes.best == "application/json")
    )


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood. Please check what you entered and try again."),
        401: _("Please sign in to continue."),
        403: _("You do not have permission to do that."),
        404: _("The page or item you asked for does not exist."),
        405: _("That action is not allowed here."),
        409: _("This conflicts with the current state; reload and try again."),
        413: _("The upload is too large."),
        422: _("Some of the data is not valid."),
        429: _("Too many attempts. Please wait a few minutes and try again."),
        500: _("Something went wrong on our side. The error has been logged."),
    }


def render_error(code: int, message: str | None = None, details: Any = None) -> Any:
    text = message or _messages().get(code, _messages()[500])
    if wants_json():
        body: dict[str, Any] = {"error": {"code": code, "message": text}}
        if details is not None:
            body["error"]["details"] = details
        return jsonify(body), code
    return render_template("errors/error.html", code=code, message=text), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        return render_error(
            400, _("The form has expired or its security token is missing. Reload the page and try again.")
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        code = exc.code or 500
        custom = exc.description if getattr(exc, "perception_message", False) else None
        return render_error(code, custom)

    @app.errorhandler(Exception)
    def unhandled(exc: Exception) -> Any:
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        transaction.abandon()
        if app.config.get("PROPAGATE_EXCEPTIONS") and app.testing and not app.config.get("SHOW_500_IN_TESTS"):
            raise exc
        return render_error(InternalServerError.code)
