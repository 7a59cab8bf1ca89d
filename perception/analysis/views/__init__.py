"""The analysis pages: one blueprint under /analysis, one module per page group."""

from flask import Blueprint

bp = Blueprint("analysis", __name__, url_prefix="/analysis")


@bp.context_processor
def _helpers() -> dict[str, object]:
    from perception.analysis.labels import helpers

    return dict(helpers())


# The pages, listed: each module adds its routes to bp.
from perception.analysis import home  # noqa: E402,F401  (its panels on the home page)
from perception.analysis.views import dashboards, market, text  # noqa: E402,F401
