"""When the database cannot be reached: 503 with Retry-After instead of a 500, for every page, API
call and survey link, and back to normal with the next request once it returns (the pool checks a
connection before use, ``pool_pre_ping``; a lost one is replaced).

- The API and JSON clients get the one problem+json shape (code ``database_unavailable``).
- People get a calm page in their language that retries by itself. A form sent during the outage
  (a survey's answers, a weekly report) comes back on that page as hidden fields with a button
  that sends it again, so nothing typed is lost; nothing of it was stored (the request's
  transaction never committed).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import exc as sa_exc

from perception.api.errors import problem_response

# Form fields never sent back (a file cannot be; the rest is what the person typed or chose).
MAX_KEPT_FIELDS = 500


def is_outage(exc: BaseException | None) -> bool:
    """Whether ``exc`` means the database is unreachable or unusable right now (not a bug)."""
    if exc is None:
        return False
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True  # no connection from the pool in time; a connection lost at checkout
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        if not isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
            return False
        message = str(exc.orig).lower()
        # SQLite reports a broken schema or statement as OperationalError too: those are bugs.
        return not any(bug in message for bug in ("no such table", "no such column", "syntax error"))
    return False


def _forget_session() -> None:
    """Roll back without asking the database more (it is gone); nothing is committed."""
    from perception.core import transaction
    from perception.core.extensions import orm

    try:
        transaction.abandon()
    except Exception:  # noqa: BLE001 - the rollback itself may fail on a dead connection
        try:
            orm().invalidate()
        except Exception:  # noqa: BLE001
            current_app.logger.debug("could not invalidate the session", exc_info=True)


def _message(retry: int) -> str:
    return _(
        "The service cannot reach its database at the moment. Nothing you sent has been lost "
        "or half-saved; please try again in %(s)s seconds.",
        s=retry,
    )


def unavailable_response(exc: BaseException) -> Any:
    from perception.web.errors import wants_json

    retry = int(current_app.config.get("OUTAGE_RETRY_AFTER_SECONDS", 10))
    current_app.logger.error("database unavailable on %s %s: %s", request.method, request.path, exc)
    _forget_session()
    g.user = None  # its attributes would need the database; the page is the signed-out layout
    headers = {"Retry-After": str(retry)}
    if wants_json():
        with force_locale("en"):
            en = _message(retry)
        with force_locale("zh_CN"):
            zh = _message(retry)
        return problem_response(503, en, zh, code="database_unavailable", headers=headers)
    kept: list[tuple[str, str]] = []
    if request.method == "POST" and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        kept = [(name, value) for name, values in request.form.lists() for value in values]
    body = render_template(
        "errors/unavailable.html",
        message=_message(retry),
        retry=retry,
        kept=kept[:MAX_KEPT_FIELDS],
        action=request.path,
        again=request.full_path.rstrip("?"),
    )
    return body, 503, headers
