"""Phase 3, perception analysis (感知分析): overview, internal KPIs, experience, KPI versus
experience, demand and text analysis, market opportunities and alerts.
"""

from __future__ import annotations

from perception.core.phase import Periodic, Phase


def phase() -> Phase:
    """This phase's parts, listed for the application factory."""
    from perception.analysis import api, demo, models
    from perception.analysis.services import alert_checks, rollup, text_run
    from perception.analysis.views import bp

    return Phase(
        name="analysis",
        models=models,
        blueprints=(bp,),
        api=(api,),
        jobs=(alert_checks, rollup, text_run),
        periodic=(
            Periodic("check_analysis_alerts", "daily"),
            Periodic("run_text_analysis", "daily"),
            Periodic("refresh_analysis_rollup", "hourly"),
        ),
        demo=(demo.load,),
    )
