"""All models, imported here so metadata is complete for create_all and Alembic.

Each phase keeps its models in its own module; add the import below when adding one.
"""

from perception.models.analysis import Alert, Opportunity, TextLabel, TextTheme  # noqa: F401
from perception.models.audit import AuditEntry
from perception.models.auth import ApiToken, LoginAttempt, Role, User, UserRole
from perception.models.base import Base
from perception.models.catalog import Service, ServiceKind, ServiceTier, Subscription
from perception.models.collection import CollectionReport, ReportEntry, ReportReminder, ReportRevision  # noqa: F401
from perception.models.collection_fieldwork import CallbackCampaign, SamplingRun, StandardCheck  # noqa: F401
from perception.models.facts import ExperienceObservation, TextEntry
from perception.models.jobs import ScheduledRun
from perception.models.kpi import ImportBatch, KpiDefinition, KpiValue, Ticket  # noqa: F401
from perception.models.org import CollectionPoint, Contact, CustomerOrg, Region
from perception.models.review import ImprovementItem, Review, ReviewFinding, ReviewReport  # noqa: F401
from perception.models.setup import ServiceStandard, Sla, StandardVersion  # noqa: F401
from perception.models.surveys import Campaign, FollowUpTask, Invitation, Response  # noqa: F401

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "CollectionPoint",
    "Contact",
    "CustomerOrg",
    "ExperienceObservation",
    "LoginAttempt",
    "Region",
    "Role",
    "ScheduledRun",
    "Service",
    "ServiceKind",
    "ServiceTier",
    "Subscription",
    "TextEntry",
    "User",
    "UserRole",
]
