"""The bodies of this phase's API (pydantic): perception.api.openapi documents their JSON Schema."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from perception.api.schemas import Body, ProblemItem


class DeadLetter(Body):
    id: int
    connection: str
    received_at: str = Field(description="UTC")
    ticket_ref: str | None
    error_code: str | None
    error: str | None
    body: str


class KpiIntakeDeadLetters(Body):
    items: list[DeadLetter]


class KpiAttainmentItemPeriod(Body):
    margin: float | None
    met: bool | None
    period: str | None
    relative_margin: float | None
    target: float | None
    value: float | None


class KpiAttainmentItem(Body):
    best_margin: float | None
    comparator: str | None
    hits: list[float]
    kind: str | None
    mean_margin: float | None
    measured: list[float]
    n_measured: float | None
    n_met: float | None
    periods: list[KpiAttainmentItemPeriod]
    service_id: int | None
    share_met: float | None
    standard_code: str | None
    worst_margin: float | None


class KpiAttainment(Body):
    items: list[KpiAttainmentItem]


class KpiBreachesItem(Body):
    actual_minutes: float | None
    customer_code: str | None
    external_id: str
    kind: str | None
    limit_minutes: float | None
    opened_at: str | None
    over_minutes: float | None
    overdue: bool | None
    priority: str | None
    region_code: str | None
    service_code: str | None
    standard_version_id: int | None
    ticket_id: int | None


class KpiBreaches(Body):
    items: list[KpiBreachesItem]


class KpiDefinitionsItem(Body):
    code: str | None
    default_target: float | None
    direction: str | None
    id: int
    metric: str | None
    name_en: str | None
    name_zh: str | None
    source: str | None
    standard_id: int | None
    unit: str | None


class KpiDefinitions(Body):
    items: list[KpiDefinitionsItem]


class Escalation(Body):
    id: int
    ticket_id: int | None
    rule_id: int | None
    sla_id: int | None
    breach: str | None
    region_id: int | None
    breached_at: str
    due_at: str
    fired_at: str
    recipients: list[str]
    recovered_at: str | None


class KpiEscalations(Body):
    items: list[Escalation]


KpiReportBreache = KpiBreachesItem  # the same shape


class KpiReportLine(Body):
    breaches: float | None
    period: str | None
    region_code: str | None
    region_en: str | None
    region_zh: str | None
    resolution_hits: float | None
    resolution_measured: float | None
    resolution_met: bool | None
    resolution_required: float | None
    resolution_share: float | None
    response_hits: float | None
    response_measured: float | None
    response_met: bool | None
    response_required: float | None
    response_share: float | None
    service_code: str | None
    service_en: str | None
    service_zh: str | None
    tickets: float | None
    worst_over_minutes: float | None


KpiReportTotal = KpiReportLine  # the same shape


class KpiReport(Body):
    breach_count: int | None
    breaches: list[KpiReportBreache]
    end: str | None
    escalations: float | None
    kind: str | None
    label: str | None
    lines: list[KpiReportLine]
    start: str | None
    total: KpiReportTotal


class KpiTicketsItem(Body):
    closed_at: str | None
    contact: str | None
    customer_id: int | None
    engineer: str | None
    external_id: str
    first_response_at: str | None
    id: int
    kind: str | None
    opened_at: str | None
    priority: str | None
    region_id: int | None
    reopen_count: int | None
    resolved_at: str | None
    service_id: int | None
    status: str | None
    tier_id: int | None
    transfers: int | None


class KpiTickets(Body):
    items: list[KpiTicketsItem]
    page: int | None
    total: int | None


KpiTicket = KpiTicketsItem  # the same shape


class KpiValuesItem(Body):
    comparator: str | None
    direction: str | None
    granularity: str | None
    kpi_code: str | None
    kpi_name_en: str | None
    kpi_name_zh: str | None
    met: bool | None
    n: float | None
    period_end: str | None
    period_start: str | None
    provenance: str | None
    region_code: str | None
    region_id: int | None
    service_code: str | None
    service_id: int | None
    target: float | None
    tier_code: str | None
    tier_id: int | None
    unit: str | None
    value: float | None
    value_id: int | None


class KpiValues(Body):
    items: list[KpiValuesItem]
    page: int | None
    total: int | None


class Replayed(Body):
    event_id: int | None
    status: str
    ticket_id: int | None
    errors: list[ProblemItem]


class Recomputed(Body):
    tickets: int
    groups: int
    values: int
    seconds: float


class DefinitionInput(Body):
    code: str
    name_zh: str
    name_en: str
    unit: str = "%"
    direction: Literal["higher", "lower"] = "higher"
    metric: str | None = None
    standard_id: int | None = None
    default_target: float | None = None


class TicketsImport(Body):
    tickets: list[dict[str, Any]] = Field(description="One object per ticket, keys as the CSV columns")


class ValuesImport(Body):
    values: list[dict[str, Any]] = Field(description="One object per KPI value, keys as the CSV columns")
