"""The setup document's entries as frozen definitions (what import, the API and forms produce).

Objects refer to each other by code (services, tiers, customers, regions, standards, SLAs) and to
users by username, so a document is portable between installations. Readers: setup_schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from perception.setup.models.standards import VersionStatus


@dataclass(frozen=True)
class RegionDef:
    code: str
    name_zh: str
    name_en: str
    timezone: str


@dataclass(frozen=True)
class PointDef:
    code: str
    name_zh: str
    name_en: str
    region: str
    report_due_weekday: int
    report_due_time: time
    active: bool
    active_from: date | None = None


@dataclass(frozen=True)
class CustomerDef:
    code: str
    name_zh: str
    name_en: str
    region: str
    industry: str | None


@dataclass(frozen=True)
class ContactDef:
    customer: str
    name: str
    email: str | None
    phone: str | None
    title: str | None
    language: str


@dataclass(frozen=True)
class TierDef:
    code: str
    name_zh: str
    name_en: str
    rank: int


@dataclass(frozen=True)
class ServiceDef:
    code: str
    name_zh: str
    name_en: str
    description_zh: str | None
    description_en: str | None
    kind: str
    owner: str | None
    active: bool
    regions: tuple[str, ...]


@dataclass(frozen=True)
class SubscriptionDef:
    customer: str
    service: str
    tier: str | None


@dataclass(frozen=True)
class StrategyDef:
    version: int | None
    title_zh: str
    title_en: str
    statement_zh: str
    statement_en: str
    principles_zh: str
    principles_en: str
    owner: str | None
    effective_from: date


@dataclass(frozen=True)
class EventDef:
    action: str
    side: str | None
    user: str | None
    customer: str | None
    comment: str | None
    at: datetime | None


@dataclass(frozen=True)
class VersionDef:
    """The measurable content of a version; import also carries status and confirmations."""

    statement_zh: str
    statement_en: str
    metric: str
    dimension: str | None
    measured_by: str
    comparator: str
    target: float | None
    unit: str | None
    window: str | None
    time_limit_minutes: float | None
    priority: str | None
    customer_need: str | None
    procedure: str | None
    classification_standard: str | None
    handling_norms: str | None
    requested_effective_from: date | None
    version: int | None = None
    status: str = VersionStatus.DRAFT
    effective_from: date | None = None
    effective_to: date | None = None
    need_confirmed_by: str | None = None
    need_confirmed_at: datetime | None = None
    provider_confirmed_by: str | None = None
    provider_confirmed_at: datetime | None = None
    customer_confirmed_by: str | None = None
    customer_confirmed_at: datetime | None = None
    events: tuple[EventDef, ...] = ()


CONTENT_FIELDS = (
    "statement_zh",
    "statement_en",
    "metric",
    "dimension",
    "measured_by",
    "comparator",
    "target",
    "unit",
    "window",
    "time_limit_minutes",
    "priority",
    "customer_need",
    "procedure",
    "classification_standard",
    "handling_norms",
)


@dataclass(frozen=True)
class StandardDef:
    code: str
    service: str
    tier: str | None
    customer: str | None
    category: str
    experience_standard: str | None
    active: bool
    versions: tuple[VersionDef, ...]


@dataclass(frozen=True)
class HolidayDef:
    day: date
    name: str | None


@dataclass(frozen=True)
class IndicatorDef:
    name_zh: str
    name_en: str
    standard: str | None
    comparator: str | None
    target: float | None
    unit: str | None


@dataclass(frozen=True)
class PromiseDef:
    description_zh: str
    description_en: str
    within_minutes: float | None
    channel: str | None


@dataclass(frozen=True)
class EscalationDef:
    after_minutes: float
    notify_roles: tuple[str, ...]
    notify_emails: tuple[str, ...]
    description_zh: str | None
    description_en: str | None


@dataclass(frozen=True)
class ReportDef:
    frequency: str
    recipients: tuple[str, ...]
    description_zh: str | None
    description_en: str | None


@dataclass(frozen=True)
class SlaDef:
    code: str
    kind: str
    supports: str | None
    team_zh: str | None
    team_en: str | None
    name_zh: str
    name_en: str
    definition_zh: str | None
    definition_en: str | None
    customer: str | None
    tier: str | None
    services: tuple[str, ...]
    covered_hours: str
    timezone: str
    effective_from: date | None
    effective_to: date | None
    active: bool
    holidays: tuple[HolidayDef, ...]
    indicators: tuple[IndicatorDef, ...]
    promises: tuple[PromiseDef, ...]
    escalations: tuple[EscalationDef, ...]
    reports: tuple[ReportDef, ...]
    workdays: tuple[HolidayDef, ...] = ()  # make-up working days (调休): worked whatever the weekday


@dataclass(frozen=True)
class PlanDef:
    service: str
    region: str | None
    customer: str | None
    tier: str | None
    means: str
    frequency: str
    sample_size: int | None
    sample_share: float | None
    owner: str | None
    notes: str | None
    active: bool


@dataclass(frozen=True)
class TrainingDef:
    trainee: str
    user: str | None
    region: str | None
    held_on: date
    topic_zh: str
    topic_en: str
    trainer: str | None
    hours: float | None
