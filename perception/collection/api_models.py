"""The bodies of this phase's API (pydantic): perception.api.openapi documents their JSON Schema."""

from __future__ import annotations

from typing import Any

from perception.api.schemas import Body


class CollectionCompletenessCell(Body):
    collection_point_id: int
    deadline: str | None
    lateness_hours: Any
    region_id: int
    report_id: int
    state: str | None
    status: str | None
    week: str | None


class CollectionCompletenessRegion(Body):
    counted: float | None
    late: float | None
    mean_lateness_hours: Any
    missing: float | None
    on_time: float | None
    on_time_rate: float | None
    rate: float | None
    region_id: int


class CollectionCompleteness(Body):
    cells: list[CollectionCompletenessCell]
    regions: list[CollectionCompletenessRegion]


class CollectionEntriesItem(Body):
    area: str | None
    category: Any
    contact_name: Any
    customer_id: int
    dimension: str | None
    duplicate_of: Any
    event_date: Any
    id: int
    impact: Any
    kind: str | None
    means: str | None
    rating: float | None
    region_id: int
    report_id: int
    service_id: int | None
    size: str | None
    text: str | None
    urgency: str | None
    week: str | None


class CollectionEntries(Body):
    items: list[CollectionEntriesItem]
    page: int | None


class CollectionReportsItem(Body):
    collection_point_id: int
    first_submitted_at: str | None
    id: int
    organiser_comment: Any
    region_id: int
    revision: float | None
    status: str | None
    submitted_at: str | None
    week: str | None
    week_start: str | None


class CollectionReports(Body):
    items: list[CollectionReportsItem]
    page: int | None


class CollectionReportEntry(Body):
    area: str | None
    category: str | None
    contact_name: Any
    customer_id: int
    dimension: str | None
    duplicate_of: Any
    event_date: str | None
    id: int
    impact: str | None
    kind: str | None
    means: str | None
    rating: float | None
    service_id: int | None
    size: str | None
    text: str | None
    urgency: str | None


class CollectionReport(Body):
    collection_point_id: int
    entries: list[CollectionReportEntry]
    first_submitted_at: str | None
    id: int
    organiser_comment: Any
    region_id: int
    revision: float | None
    status: str | None
    submitted_at: str | None
    week: str | None
    week_start: str | None


class CollectionDiscrepancyItem(Body):
    confirmed: float | None
    discrepant: float | None
    high: float | None
    low: float | None
    rate: float | None
    region_id: int | None
    sampled: float | None


class CollectionDiscrepancy(Body):
    items: list[CollectionDiscrepancyItem]
    population: float | None
    run_id: int
    sample_size: float | None
    seed: str | None
