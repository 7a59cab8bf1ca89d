"""Error pages in the user's language, and for the API the one problem+json shape; never a
traceback. A ``UserError`` that no view caught answers with its problems (422 unless it says
otherwise), so an operation's validation never becomes a 500; a database that cannot be reached
answers 503 (perception.web.outage)."""

from __future__ import annotations

from typing import Any

from flask import Flask, make_response, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from perception.api.errors import problem_response, user_error_response
from perception.core import transaction
from perception.core.errors import UserError
from perception.core.i18n import is_zh
from perception.web import outage


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


def _both_languages(code: int, message: str | None) -> tuple[str, str]:
    """The message of a status in English and Chinese (a custom message is shown as given)."""
    if message:
        return message, message
    with force_locale("en"):
        en = _messages().get(code, _messages()[500])
    with force_locale("zh_CN"):
        zh = _messages().get(code, _messages()[500])
    return en, zh


def render_error(code: int, message: str | None = None) -> Any:
    """An error page, or for the API and JSON clients the one problem+json shape."""
    if wants_json():
        en, zh = _both_languages(code, message)
        return problem_response(code, en, zh)
    text = message or _messages().get(code, _messages()[500])
    return render_template("errors/error.html", code=code, message=text), code


def render_user_error(exc: UserError) -> Any:
    if wants_json():
        return user_error_response(exc)
    problems = [p.located(is_zh()) for p in exc.problems]
    return (
        render_template(
            "errors/error.html", code=exc.status, message=exc.zh if is_zh() else exc.en, problems=problems
        ),
        exc.status,
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(UserError)
    def user_error(exc: UserError) -> Any:
        # Raised by an operation and not shown on a form by the view: the answer is the same
        # problem list, and the request's transaction rolls back (status >= 400).
        return render_user_error(exc)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        return render_error(
            400, _("The form has expired or its security token is missing. Reload the page and try again.")
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        cause = exc.original_exception if isinstance(exc, InternalServerError) else None
        if cause is not None and outage.is_outage(cause):
            return outage.unavailable_response(cause)  # e.g. the request's commit failed
        code = exc.code or 500
        custom = exc.description if getattr(exc, "perception_message", False) else None
        response = render_error(code, custom)
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response = make_response(response)
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unhandled(exc: Exception) -> Any:
        if outage.is_outage(exc):
            return outage.unavailable_response(exc)  # 503 and Retry-After, not a 500
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        transaction.abandon()
        if app.config.get("PROPAGATE_EXCEPTIONS") and app.testing and not app.config.get("SHOW_500_IN_TESTS"):
            raise exc
        return render_error(InternalServerError.code)
