"""The navigation, by phase. One list; an entry shows only if its endpoint exists and the user may use it.

Phases add their entries here (label is an English msgid translated in the template).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from perception.core.authz import Permission, can
from perception.core.models.auth import User


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark for extraction only"
    return message


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    permission: Permission | None = None


@dataclass(frozen=True)
class NavSection:
    key: str
    label: str
    items: tuple[NavItem, ...]


SECTIONS: tuple[NavSection, ...] = (
    NavSection(
        "setup",
        N_("Setup"),
        (
            NavItem(N_("Service strategy"), "setup.strategy", Permission.VIEW_SETUP),
            NavItem(N_("Service catalogue"), "setup.services", Permission.VIEW_SETUP),
            NavItem(N_("Service standards"), "setup.standards", Permission.VIEW_SETUP),
            NavItem(N_("SLAs"), "setup.slas", Permission.VIEW_SETUP),
            NavItem(N_("Perception plan"), "setup.plan", Permission.VIEW_SETUP),
            NavItem(N_("Organisation"), "setup.organisation", Permission.VIEW_SETUP),
            NavItem(N_("Training"), "setup.training", Permission.VIEW_SETUP),
        ),
    ),
    NavSection(
        "collection",
        N_("Collection"),
        (
            NavItem(N_("Weekly reports"), "collection.reports", Permission.VIEW_COLLECTION),
            NavItem(N_("Completeness board"), "collection.board", Permission.ORGANISE_REPORTS),
            NavItem(N_("Consolidation"), "collection.consolidation", Permission.ORGANISE_REPORTS),
            NavItem(N_("Phone callbacks"), "collection.callbacks", Permission.RECORD_CALLBACK),
            NavItem(N_("Sampling comparison"), "collection.sampling", Permission.MANAGE_SAMPLING),
            NavItem(N_("Records vs standards"), "collection.standard_checks", Permission.VIEW_COLLECTION),
            NavItem(N_("Follow-up tasks"), "surveys.followups", Permission.VIEW_COLLECTION),
            NavItem(N_("Surveys"), "surveys.index", Permission.VIEW_SURVEYS),
            NavItem(N_("Tickets & KPIs"), "kpi.index", Permission.VIEW_KPI),
        ),
    ),
    NavSection(
        "analysis",
        N_("Analysis"),
        (
            NavItem(N_("Overview"), "analysis.overview", Permission.VIEW_ANALYSIS),
            NavItem(N_("KPI vs experience"), "analysis.kpi_vs_experience", Permission.VIEW_ANALYSIS),
            NavItem(N_("Internal KPIs"), "analysis.kpis", Permission.VIEW_ANALYSIS),
            NavItem(N_("Experience"), "analysis.experience", Permission.VIEW_ANALYSIS),
            NavItem(N_("Demand & text"), "analysis.demand", Permission.VIEW_ANALYSIS),
            NavItem(N_("Market opportunities"), "analysis.opportunities", Permission.VIEW_MARKET),
            NavItem(N_("Alerts"), "analysis.alerts", Permission.VIEW_ANALYSIS),
        ),
    ),
    NavSection(
        "review",
        N_("Review"),
        (
            NavItem(N_("Customer portal"), "review.portal", Permission.CONFIRM_STANDARD_CUSTOMER),
            NavItem(N_("Reviews"), "review.reviews", Permission.VIEW_REVIEW),
            NavItem(N_("Improvement register"), "review.register", Permission.VIEW_REVIEW),
        ),
    ),
    NavSection(
        "admin",
        N_("Administration"),
        (
            NavItem(N_("Users"), "admin.users", Permission.ADMIN_USERS),
            NavItem(N_("API keys"), "admin.keys", Permission.ADMIN_USERS),
            NavItem(N_("Audit log"), "admin.audit", Permission.VIEW_AUDIT),
            NavItem(N_("Webhooks"), "admin.webhooks", Permission.ADMIN_USERS),
        ),
    ),
)


def visible_sections(user: User | None) -> list[NavSection]:
    out: list[NavSection] = []
    endpoints = current_app.view_functions
    for section in SECTIONS:
        items = tuple(
            item
            for item in section.items
            if item.endpoint in endpoints and (item.permission is None or can(item.permission, user))
        )
        if items:
            out.append(NavSection(section.key, section.label, items))
    return out
