"""A campaign's results question by question (the survey owner's summary page)."""

from __future__ import annotations

from typing import Any

from flask import render_template

from perception.core.authz import Permission, get_or_404, region_scope, require
from perception.core.extensions import orm
from perception.core.i18n import is_zh
from perception.surveys.labels import QUESTION_TYPE_LABELS
from perception.surveys.models import Campaign
from perception.surveys.services.question_results import question_results
from perception.surveys.views import bp


@bp.get("/campaigns/<int:campaign_id>/results")
@require(Permission.VIEW_SURVEYS)
def campaign_results(campaign_id: int) -> Any:
    item = get_or_404(Campaign, campaign_id)
    counted, results = question_results(orm(), item, "zh" if is_zh() else "en", region_scope())
    return render_template(
        "surveys/campaign_results.html",
        campaign=item,
        counted=counted,
        results=results,
        type_labels=QUESTION_TYPE_LABELS,
    )
