"""Phase 3, perception analysis (感知分析): overview, internal KPIs, experience, KPI versus
experience, demand and text analysis, market opportunities and alerts."""

from flask import Blueprint

bp = Blueprint("analysis", __name__, url_prefix="/analysis")


@bp.context_processor
def _helpers() -> dict[str, object]:
    from perception.analysis.labels import helpers

    return dict(helpers())


from perception.analysis import views, views_market, views_text  # noqa: E402,F401
