"""Phase 1, system setup: strategy, catalogue, standards and their joint confirmation, SLAs/OLAs,
the perception plan and its coverage, organisation, roles, training, configuration as code.

The organisation's tables (regions, collection points, customers, contacts) live in
``perception.core.models`` because authorisation scopes every phase by them; this phase owns their
pages, their API and their demo.
"""

from __future__ import annotations

from perception.core.phase import Phase


def phase() -> Phase:
    """This phase's parts, listed for the application factory."""
    from perception.setup import api, demo, demo_org, models
    from perception.setup.views import bp

    return Phase(name="setup", models=models, blueprints=(bp,), api=(api,), demo=(demo_org.load, demo.load))
