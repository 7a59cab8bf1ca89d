"""Surveys for staff: published questionnaires, campaigns and their response rates, follow-up tasks.

The customer-facing pages are the ``public`` blueprint; the questionnaire engine is ``surveys/``
at the top level (this package's name only shares the word).
"""

from flask import Blueprint

bp = Blueprint("surveys", __name__, url_prefix="/surveys")


@bp.context_processor
def _helpers() -> dict[str, object]:
    from perception.surveys.labels import template_helpers

    return template_helpers()


from perception.surveys import views, views_definitions, views_followups  # noqa: E402,F401
