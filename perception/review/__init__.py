"""Phase 4, review and evaluation (回顾评价): the semi-annual system review workspace, its sign-off
and PDF report, and the continual improvement register.
"""

from __future__ import annotations

from perception.core.phase import Periodic, Phase


def phase() -> Phase:
    """This phase's parts, listed for the application factory."""
    from perception.review import api, cli, demo, jobs, models
    from perception.review.views import bp

    del cli  # imported for its `perception review ...` commands on bp.cli
    return Phase(
        name="review",
        models=models,
        blueprints=(bp,),
        api=(api,),
        jobs=(jobs,),
        periodic=(Periodic("ensure_reviews", "daily"), Periodic("prepare_review_pages", "hourly")),
        demo=(demo.load,),
        demo_covers=demo.covers,
    )
