"""Surveys for staff: published questionnaires, campaigns and their response rates, follow-up tasks.

The customer-facing pages are the ``public`` blueprint; the questionnaire engine is ``surveys/``
at the top level (this package's name only shares the word).

Boundary with collection: this phase owns questionnaires, campaigns, single-use links, the
respondent's pages and follow-ups of low scores. Collection (weekly reports, callbacks, sampling)
may import it, for instance to show follow-ups on a region's page; surveys never imports
collection. The questionnaire engine itself is the top-level ``surveys`` package (no Flask, no DB).
"""

from __future__ import annotations

from perception.core.phase import Periodic, Phase


def phase() -> Phase:
    """This phase's parts, listed for the application factory."""
    from perception.surveys import api, api_history, cli, demo, jobs, models
    from perception.surveys.respondent import bp as respondent_bp
    from perception.surveys.views import bp

    del cli  # imported for its `perception surveys ...` commands on bp.cli
    return Phase(
        name="surveys",
        models=models,
        blueprints=(bp, respondent_bp),
        api=(api, api_history),
        jobs=(jobs,),
        periodic=(
            Periodic("send_campaign_invitations", "daily"),
            Periodic("send_campaign_reminders", "daily"),
            Periodic("route_followups", "hourly"),
        ),
        demo=(demo.load,),
    )
