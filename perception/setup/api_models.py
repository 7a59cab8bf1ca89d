"""The bodies of this phase's API (pydantic): perception.api.openapi documents their JSON Schema."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from perception.api.schemas import Body, Named, PageInfo


class SetupCoverageCell(Body):
    region: str | None
    service: str | None
    status: str | None


class SetupCoverageUnmeasuredStandard(Body):
    code: str | None
    reason_en: str | None
    reason_zh: str | None


class SetupCoverage(Body):
    cells: list[SetupCoverageCell]
    services_without_plan: list[str]
    unmeasured_standards: list[SetupCoverageUnmeasuredStandard]


class SetupExportCollectionPoint(Body):
    active: bool | None
    active_from: str | None
    code: str | None
    name_en: str | None
    name_zh: str | None
    region: str | None
    report_due_time: str | None
    report_due_weekday: float | None


class SetupExportContact(Body):
    customer: str | None
    email: str | None
    language: str | None
    name: str | None
    phone: str | None
    title: str | None


class SetupExportCustomer(Body):
    code: str | None
    industry: str | None
    name_en: str | None
    name_zh: str | None
    region: str | None


class SetupExportPlanItem(Body):
    active: bool | None
    customer: str | None
    frequency: str | None
    means: str | None
    notes: str | None
    owner: str | None = Field(description="The owner's username")
    region: str | None
    sample_share: float | None
    sample_size: float | None
    service: str | None
    tier: str | None


class SetupExportRegion(Body):
    code: str | None
    name_en: str | None
    name_zh: str | None
    timezone: str | None


class SetupExportRolesCollectionPoint(Body):
    code: str | None
    lead: str | None
    organiser: str | None


class SetupExportRolesProvider(Body):
    en: str | None
    zh: str | None


class SetupExportRoles(Body):
    collection_points: list[SetupExportRolesCollectionPoint]
    provider: SetupExportRolesProvider
    system_owner: str | None


class SetupExportService(Body):
    active: bool | None
    code: str | None
    description_en: str | None
    description_zh: str | None
    kind: str | None
    name_en: str | None
    name_zh: str | None
    owner: str | None
    regions: list[str]


class SetupExportSlaEscalation(Body):
    after_minutes: float | None
    description_en: str | None
    description_zh: str | None
    notify_emails: list[str]
    notify_roles: list[str]


class SetupExportSlaHoliday(Body):
    date: str | None
    name: str | None


class SetupExportSlaIndicator(Body):
    comparator: str | None
    name_en: str | None
    name_zh: str | None
    standard: str | None = Field(description="The service standard's code")
    target: float | None
    unit: str | None


class SetupExportSlaPromise(Body):
    channel: str | None
    description_en: str | None
    description_zh: str | None
    within_minutes: float | None


class SetupExportSlaReport(Body):
    description_en: str | None
    description_zh: str | None
    frequency: str | None
    recipients: list[str]


class SetupExportSla(Body):
    active: bool | None
    code: str | None
    covered_hours: str | None
    customer: str | None
    definition_en: str | None
    definition_zh: str | None
    effective_from: str | None
    effective_to: str | None
    escalations: list[SetupExportSlaEscalation]
    holidays: list[SetupExportSlaHoliday]
    indicators: list[SetupExportSlaIndicator]
    kind: str | None
    name_en: str | None
    name_zh: str | None
    promises: list[SetupExportSlaPromise]
    reports: list[SetupExportSlaReport]
    services: list[str]
    supports: str | None
    team_en: str | None
    team_zh: str | None
    tier: str | None
    timezone: str | None


class SetupExportStandardVersionEvent(Body):
    action: str | None
    at: str | None
    comment: str | None
    customer: str | None
    side: str | None
    user: str | None


class SetupExportStandardVersion(Body):
    classification_standard: str | None = Field(
        description="Reactive services' classification standard (text)"
    )
    comparator: str | None
    customer_confirmed_at: str | None
    customer_confirmed_by: str | None
    customer_need: str | None
    dimension: str | None
    effective_from: str | None
    effective_to: str | None
    events: list[SetupExportStandardVersionEvent]
    handling_norms: str | None
    measured_by: str | None
    metric: str | None
    need_confirmed_at: str | None
    need_confirmed_by: str | None
    priority: str | None
    procedure: str | None
    provider_confirmed_at: str | None
    provider_confirmed_by: str | None
    requested_effective_from: str | None
    statement_en: str | None
    statement_zh: str | None
    status: str | None
    target: float | None
    time_limit_minutes: float | None
    unit: str | None
    version: int | None
    window: str | None


class SetupExportStandard(Body):
    active: bool | None
    category: str | None
    code: str | None
    customer: str | None
    experience_standard: str | None
    service: str | None
    tier: str | None
    versions: list[SetupExportStandardVersion]


class SetupExportStrategyItem(Body):
    effective_from: str | None
    owner: str | None
    principles_en: str | None
    principles_zh: str | None
    statement_en: str | None
    statement_zh: str | None
    title_en: str | None
    title_zh: str | None
    version: int | None


class SetupExportSubscription(Body):
    customer: str | None
    service: str | None
    tier: str | None


class SetupExportTier(Body):
    code: str | None
    name_en: str | None
    name_zh: str | None
    rank: int | None


class SetupExportTrainingItem(Body):
    held_on: str | None
    hours: float | None
    region: str | None
    topic_en: str | None
    topic_zh: str | None
    trainee: str | None
    trainer: str | None
    user: str | None


class SetupExport(Body):
    collection_points: list[SetupExportCollectionPoint]
    contacts: list[SetupExportContact]
    customers: list[SetupExportCustomer]
    format: str | None
    plan: list[SetupExportPlanItem]
    regions: list[SetupExportRegion]
    roles: SetupExportRoles
    services: list[SetupExportService]
    slas: list[SetupExportSla]
    standards: list[SetupExportStandard]
    strategy: list[SetupExportStrategyItem]
    subscriptions: list[SetupExportSubscription]
    tiers: list[SetupExportTier]
    training: list[SetupExportTrainingItem]


class SetupServicesItem(Named):
    active: bool | None
    kind: str | None


class SetupServices(PageInfo):
    items: list[SetupServicesItem]


SetupSlasItemEscalation = SetupExportSlaEscalation  # the same shape


SetupSlasItemHoliday = SetupExportSlaHoliday  # the same shape


SetupSlasItemIndicator = SetupExportSlaIndicator  # the same shape


SetupSlasItemPromise = SetupExportSlaPromise  # the same shape


SetupSlasItemReport = SetupExportSlaReport  # the same shape


SetupSlaEscalation = SetupExportSlaEscalation  # the same shape


SetupSlaHoliday = SetupExportSlaHoliday  # the same shape


SetupSlaPromise = SetupExportSlaPromise  # the same shape


SetupSlaReport = SetupExportSlaReport  # the same shape


class SetupSla(Body):
    active: bool | None
    code: str | None
    covered_hours: str | None
    customer: str | None
    definition_en: str | None
    definition_zh: str | None
    effective_from: str | None
    effective_to: str | None
    escalations: list[SetupSlaEscalation]
    holidays: list[SetupSlaHoliday]
    id: int
    indicators: list[SetupExportSlaIndicator]
    kind: str | None
    name_en: str | None
    name_zh: str | None
    promises: list[SetupSlaPromise]
    reports: list[SetupSlaReport]
    services: list[str]
    supports: str | None = Field(description="The code of the SLA an OLA supports")
    team_en: str | None
    team_zh: str | None
    tier: str | None
    timezone: str | None


SetupSlasItem = SetupSla  # the same concept


class SetupSlas(Body):
    items: list[SetupSlasItem]


class SetupStandardsItem(Body):
    classification_standard: str | None
    code: str | None
    comparator: str | None
    customer_need: str | None
    dimension: str | None
    effective_from: str | None
    effective_to: str | None
    handling_norms: str | None
    id: int
    measured_by: str | None
    metric: str | None
    priority: str | None
    procedure: str | None
    standard_id: int | None
    statement_en: str | None
    statement_zh: str | None
    status: str | None
    target: float | None
    time_limit_minutes: float | None
    unit: str | None
    version: int | None
    window: str | None


class SetupStandards(PageInfo):
    items: list[SetupStandardsItem]
    on: str | None


class SetupStandardInForce(Body):
    on: str | None
    version: int | None


SetupStandardVersionEvent = SetupExportStandardVersionEvent  # the same shape


SetupStandardVersion = SetupExportStandardVersion  # the same concept


class SetupStandard(Body):
    """One standard with every version; ``in_force`` and ``bound_customers`` when it is read."""

    active: bool | None
    bound_customers: list[int] | None = None
    category: str | None
    code: str | None
    customer: str | None
    experience_standard: str | None
    id: int
    in_force: SetupStandardInForce | None = None
    service: str | None
    tier: str | None
    versions: list[SetupStandardVersion]


class SetupTiersItem(Named):
    rank: int | None


class SetupTiers(PageInfo):
    items: list[SetupTiersItem]


class StandardInput(Body):
    """A standard's head and the content of its new draft version."""

    code: str
    service: str = Field(description="service code")
    tier: str | None = Field(default=None, description="tier code")
    customer: str | None = Field(default=None, description="customer code")
    category: str | None = None
    experience_standard: str | None = None
    active: bool = True
    statement_zh: str | None = None
    statement_en: str | None = None
    metric: str | None = None
    dimension: str | None = None
    measured_by: str | None = None
    comparator: str | None = None
    target: float | None = None
    unit: str | None = None
    window: str | None = None
    time_limit_minutes: float | None = None
    priority: str | None = None
    customer_need: str | None = None
    procedure: str | None = None
    classification_standard: str | None = None
    handling_norms: str | None = None
    requested_effective_from: str | None = Field(default=None, json_schema_extra={"format": "date"})


class StepInput(Body):
    comment: str | None = None
    accept_without_history: bool = Field(
        default=False,
        description="propose only: the proposer accepts a rule with no history to replay (its feasibility "
        "unproven); required for such a rule, recorded in the audit log and shown to the confirming sides",
    )


HISTORY_BOUND = 1e12  # a measured value beyond this is a typing error, and squares overflow


class CheckInput(Body):
    history: list[Annotated[float, Field(ge=-HISTORY_BOUND, le=HISTORY_BOUND)]] | None = Field(
        default=None, description="Measured values, oldest first"
    )


class PrincipleResult(Body):
    principle: str
    passed: bool
    reason_zh: str
    reason_en: str
    code: str


class PrincipleReport(Body):
    standard_code: str
    results: list[PrincipleResult]
    passed: bool
    version: int


class SetupImportInput(Body):
    """A full or partial setup document (the format of GET /setup/export; YAML is accepted too)."""

    format: int | str | None = None


class SetupImported(Body):
    entries: dict[str, int] = Field(description="Entries read, per section")
    changes: int = Field(description="Audited row changes (0 when the same document is imported again)")
    dry_run: bool


class SlaFor(Body):
    sla: SetupSla | None
