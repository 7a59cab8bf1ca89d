"""The collection pages: one blueprint under /collection, one module per page group."""

from flask import Blueprint

bp = Blueprint("collection", __name__, url_prefix="/collection")


@bp.context_processor
def _helpers() -> dict[str, object]:
    from perception.collection.labels import template_helpers

    return template_helpers()


# The pages, listed: each module adds its routes to bp.
from perception.collection import home  # noqa: E402,F401  (its panels on the home page)
from perception.collection.views import actions, board, callbacks, history, reports, sampling  # noqa: E402,F401
