"""The bodies of this phase's API (pydantic): perception.api.openapi documents their JSON Schema."""

from __future__ import annotations

from typing import Any

from perception.api.schemas import Body


class KpiIntakeDeadLetters(Body):
    items: list[Any]


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
    service_id: int
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
    standard_version_id: int
    ticket_id: int


class KpiBreaches(Body):
    items: list[KpiBreachesItem]


class KpiDefinitionsItem(Body):
    code: str | None
    default_target: Any
    direction: str | None
    id: int
    metric: str | None
    name_en: str | None
    name_zh: str | None
    source: str | None
    standard_id: Any
    unit: str | None


class KpiDefinitions(Body):
    items: list[KpiDefinitionsItem]


class KpiEscalations(Body):
    items: list[Any]


class KpiReportBreache(Body):
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
    standard_version_id: int
    ticket_id: int


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


class KpiReportTotal(Body):
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


class KpiReport(Body):
    breach_count: float | None
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
    customer_id: int
    engineer: str | None
    external_id: str
    first_response_at: str | None
    id: int
    kind: str | None
    opened_at: str | None
    priority: str | None
    region_id: int
    reopen_count: float | None
    resolved_at: str | None
    service_id: int
    status: str | None
    tier_id: int
    transfers: float | None


class KpiTickets(Body):
    items: list[KpiTicketsItem]
    page: int | None
    total: int | None


class KpiTicket(Body):
    closed_at: str | None
    contact: str | None
    customer_id: int
    engineer: str | None
    external_id: str
    first_response_at: str | None
    id: int
    kind: str | None
    opened_at: str | None
    priority: str | None
    region_id: int
    reopen_count: float | None
    resolved_at: str | None
    service_id: int
    status: str | None
    tier_id: int
    transfers: float | None


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
    region_id: int
    service_code: str | None
    service_id: int
    target: float | None
    tier_code: str | None
    tier_id: int
    unit: str | None
    value: float | None
    value_id: int


class KpiValues(Body):
    items: list[KpiValuesItem]
    page: int | None
    total: int | None
