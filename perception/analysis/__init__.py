"""Phase 3, perception analysis (感知分析): overview, internal KPIs, experience, KPI versus
experience, demand and text analysis, market opportunities and alerts.

Boundary with kpi and the collecting phases: they record the facts (KPI values, experience
observations, texts); this phase reads them to compare, rank and alert, and writes only its own
results (themes and classifications, also onto the texts; opportunities; alerts; the weekly
rollup of the facts).
"""

from __future__ import annotations

from perception.core.phase import Periodic, Phase


def phase() -> Phase:
    """This phase's parts, listed for the application factory."""
    from perception.analysis import api, demo, jobs, kept_pages, models
    from perception.analysis.services import standard_history
    from perception.analysis.services.freshness import rollup_written
    from perception.analysis.views import bp

    del standard_history  # imported to register the experience standards' feasibility history

    return Phase(
        name="analysis",
        models=models,
        blueprints=(bp,),
        api=(api,),
        jobs=(jobs, kept_pages),
        periodic=(
            Periodic("check_analysis_alerts", "daily"),
            Periodic("run_text_analysis", "daily"),
            # Both also within a minute of a write that changed their data, whoever wrote it, and
            # at most once per TRIGGER_EVERY (5 minutes) while writes keep coming.
            Periodic(
                "refresh_analysis_rollup",
                "hourly",
                when_changed=rollup_written,
                at_most_every=kept_pages.TRIGGER_EVERY,
            ),
            Periodic(
                "refresh_kept_pages",
                "hourly",
                when_changed=kept_pages.refresh_marks,
                at_most_every=kept_pages.TRIGGER_EVERY,
            ),
        ),
        demo=(demo.load,),
    )
