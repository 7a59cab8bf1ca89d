"""Phase 2, internal KPIs (内部 KPI): ticket and KPI imports with dry run, KPI values, SLA
attainment and breaches, open escalations, and the monthly/quarterly SLA-failure reports.

Boundary with analysis: this phase holds the provider's own measurements as they are
recorded (tickets, KPI values, SLA attainment, escalations, SLA-failure reports); comparing them
with the customers' experience is analysis. Surveys and collection import this phase (a closed
ticket triggers a survey, sampling re-checks closed tickets), never the other way round.
"""

from __future__ import annotations

from perception.core.phase import Periodic, Phase


def phase() -> Phase:
    """This phase's parts, listed for the application factory."""
    from perception.kpi import api, api_intake, cli, closes, demo, intake_cli, models
    from perception.kpi.services import intake_jobs, jobs
    from perception.kpi.views import bp
    from perception.kpi.views.intake import intake_bp

    del cli, intake_cli  # imported for their `perception kpi ...` commands on bp.cli
    del closes  # imported to connect what a closed ticket asks of other phases
    return Phase(
        name="kpi",
        models=models,
        blueprints=(bp, intake_bp),
        api=(api, api_intake),
        jobs=(jobs, intake_jobs),
        periodic=(
            Periodic("check_escalations", "hourly"),  # minute-level: run `perception kpi escalate` from cron
            Periodic("compute_kpis", "daily"),
            Periodic("refresh_kpi_cumulative", "hourly"),  # when a write left the running sums stale
            Periodic("refresh_kpi_week_sums", "hourly"),  # likewise the weekly sums over the regions
        ),
        demo=(demo.load,),
    )
