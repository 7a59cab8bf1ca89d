"""The bodies of this phase's API (pydantic): perception.api.openapi documents their JSON Schema."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from perception.api.schemas import Body


class CollectionCompletenessCell(Body):
    collection_point_id: int | None
    deadline: str | None
    lateness_hours: float | None
    region_id: int | None
    report_id: int | None
    state: str | None
    status: str | None
    week: str | None


class CollectionCompletenessRegion(Body):
    counted: float | None
    late: float | None
    mean_lateness_hours: float | None
    missing: float | None
    on_time: float | None
    on_time_rate: float | None
    rate: float | None
    region_id: int | None


class CollectionCompleteness(Body):
    cells: list[CollectionCompletenessCell]
    regions: list[CollectionCompletenessRegion]


class CollectionEntriesItem(Body):
    area: str | None
    category: str | None = Field(description="The entry's category code (vocabulary CATEGORIES)")
    contact_name: str | None
    customer_id: int | None
    dimension: str | None
    duplicate_of: int | None
    event_date: str | None
    id: int
    impact: str | None
    kind: str | None
    means: str | None
    rating: float | None
    region_id: int | None
    report_id: int | None
    service_id: int | None
    size: str | None
    text: str | None
    urgency: str | None
    week: str | None


class CollectionEntries(Body):
    items: list[CollectionEntriesItem]
    page: int | None


class CollectionReportsItem(Body):
    collection_point_id: int | None
    first_submitted_at: str | None
    id: int
    organiser_comment: str | None
    region_id: int | None
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
    contact_name: str | None
    customer_id: int | None
    dimension: str | None
    duplicate_of: int | None
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
    """A weekly report; ``entries`` only where the operation says it answers them."""

    collection_point_id: int | None
    entries: list[CollectionReportEntry] | None = None
    first_submitted_at: str | None
    id: int
    organiser_comment: str | None
    region_id: int | None
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
    run_id: int | None
    sample_size: float | None
    seed: str | None


class ReportsImport(Body):
    rows: list[dict[str, Any]] = Field(description="One object per report entry, keys as the file's columns")


class CallbacksImport(Body):
    calls: list[dict[str, Any]] = Field(description="One object per call, keys as the file's columns")


class CollectionEvent(Body):
    entry_id: int | None
    report_id: int | None
    region_id: int | None
    collection_point_id: int | None
    customer_id: int | None
    service_id: int | None
    event_date: str = Field(json_schema_extra={"format": "date"})
    category: str = Field(description="major_event, system_change, supplier_change, personnel_change, other")
    description: str
    impact: str | None


class CollectionEvents(Body):
    items: list[CollectionEvent]


EventCategory = Literal["major_event", "system_change", "supplier_change", "personnel_change", "other"]


class ReportEntryInput(Body):
    kind: Literal["dynamic", "feedback", "requirement"]
    customer: str = Field(description="customer code (or id) of the point's region")
    text: str = Field(description="description / feedback / requirement")
    service: str | None = Field(default=None, description="service code (or id)")
    category: (
        Literal["major_event", "system_change", "supplier_change", "personnel_change", "other"] | None
    ) = None
    date: str | None = Field(default=None, json_schema_extra={"format": "date"})
    impact: str | None = None
    contact: str | None = None
    dimension: (
        Literal[
            "response_speed",
            "fault_handling",
            "deliverable_quality",
            "staff_attitude",
            "service_conformity",
            "training_effect",
        ]
        | None
    ) = None
    rating: int | None = Field(default=None, ge=1, le=5)
    means: Literal["callback", "visit", "questionnaire", "complaint", "other"] | None = None
    area: str | None = None
    urgency: Literal["low", "medium", "high", "critical"] | None = None
    size: Literal["small", "medium", "large"] | None = None


class ReportInput(Body):
    entries: list[ReportEntryInput]
    submit: bool = False
    append: bool = False


class ReturnInput(Body):
    comment: str


class CallbackAttemptInput(Body):
    outcome: Literal["no_answer", "refused", "wrong_number", "completed"]
    answers: dict[str, Any] | None = Field(
        default=None,
        description="Free-form: the campaign's callback script decides the keys (question ids) and"
        " each answer's type, as the survey history import reads them",
    )
    note: str | None = None


class CallbackAttempt(Body):
    id: int
    task_id: int | None
    status: str
    response_id: int | None
