"""The collection phase (信息采集): weekly reports, the organiser's completeness board and
consolidation, phone callbacks and the sampling comparison.

Boundary: collection imports surveys (follow-ups shown beside reports) and kpi (sampling
re-checks closed tickets); neither imports collection.
"""

from __future__ import annotations

from perception.core.phase import Periodic, Phase


def phase() -> Phase:
    """This phase's parts, listed for the application factory."""
    from perception.collection import api, api_board, api_history, cli, demo, models
    from perception.collection.services import feedback_check, reminders
    from perception.collection.views import bp

    del cli  # imported for its `perception collection ...` commands on bp.cli
    return Phase(
        name="collection",
        models=models,
        blueprints=(bp,),
        api=(api, api_board, api_history),
        jobs=(feedback_check, reminders),
        periodic=(Periodic("report_reminders", "hourly"), Periodic("standard_checks", "daily")),
        demo=(demo.load,),  # the fieldwork part (callbacks, sampling) is loaded by demo.load
    )
