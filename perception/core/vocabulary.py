"""Labels for the domain's fixed vocabularies, in both languages, used by templates and exports."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from perception.core.models.auth import Role

ROLE_LABELS = {
    Role.SYSTEM_OWNER: _l("System owner"),
    Role.COLLECTOR: _l("Collector"),
    Role.ORGANISER: _l("Organiser"),
    Role.ANALYST: _l("Analyst"),
    Role.MANAGER: _l("Manager"),
    Role.REVIEWER: _l("Reviewer"),
    Role.MARKET: _l("Market expansion"),
    Role.CUSTOMER_REP: _l("Customer representative"),
}

FEEDBACK_DIMENSIONS = {
    "response_speed": _l("Response speed"),
    "fault_handling": _l("Fault-handling effect"),
    "deliverable_quality": _l("Deliverable quality"),
    "staff_attitude": _l("Staff attitude"),
    "service_conformity": _l("Service conformity"),
    "training_effect": _l("Training effect"),
}


def role_label(role: Role | str) -> str:
    return str(ROLE_LABELS.get(Role(role), role))
