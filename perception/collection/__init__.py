"""The collection phase (信息采集): weekly reports, the organiser's completeness board and
consolidation, phone callbacks and the sampling comparison."""

from flask import Blueprint

bp = Blueprint("collection", __name__, url_prefix="/collection")


@bp.context_processor
def _helpers() -> dict[str, object]:
    from perception.collection.labels import template_helpers

    return template_helpers()


from perception.collection import (  # noqa: E402,F401
    views,
    views_actions,
    views_board,
    views_callbacks,
    views_sampling,
)
