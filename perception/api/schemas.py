"""The API's shared body models (pydantic v2): the problem shape of every error, pages, and the
organisation's objects. A phase's own bodies are modelled in its ``api.py``; ``@document`` turns a
model into the OpenAPI document's JSON Schema (perception.api.openapi)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    """A JSON body: members beyond the declared ones are allowed (a client ignores them)."""

    model_config = ConfigDict(extra="allow")


class ProblemItem(Body):
    """One problem of an error, naming the field (and row, value) it is about."""

    field: str | None = Field(description="The field's path, e.g. 'versions[0].target'")
    row: int | None = Field(default=None, description="The row of an upload, from 1")
    value: Any = Field(
        default=None, description="Free-form: the value that was refused, as sent (any JSON value)"
    )
    code: str
    detail: str = Field(description="English")
    detail_zh: str
    detail_en: str


class Problem(Body):
    """RFC 9457 problem details, the one shape of every API error (``application/problem+json``)."""

    type: str = Field(examples=["about:blank"])
    title: str = Field(examples=["Unprocessable Content"])
    status: int = Field(ge=400, le=599)
    code: str = Field(description="A stable code: invalid, not_found, forbidden, unauthorized, ...")
    detail: str = Field(description="What went wrong, in English")
    detail_zh: str = Field(description="What went wrong, in Chinese")
    errors: list[ProblemItem] = Field(description="One entry per field; empty when not about fields")


class Bilingual(Body):
    """A text for a person in both languages."""

    zh: str | None
    en: str | None


class Message(Body):
    """A message meant for a person, with a stable code and both languages (scoring.results.Message)."""

    code: str
    zh: str
    en: str


class Estimate(Body):
    """One measure for one group with its interval and the low-sample flag (scoring.results.GroupMeasure).

    Units: shares (csat, top_box, bottom_box) on 0..1; nps on -100..100; means on the rating scale;
    perception_index on 0..100."""

    key: list[int | str] = Field(description="The group's key values (e.g. [region_id]); [] for the total")
    measure: str | None
    n: float | None
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float | None
    method: str | None
    low_sample: bool | None
    successes: float | None = Field(default=None, description="The count behind a share")
    promoters: float | None = Field(default=None, description="The promoters behind an NPS")
    detractors: float | None = Field(default=None, description="The detractors behind an NPS")
    sd: float | None = Field(default=None, description="The sample SD behind a mean")


class Named(Body):
    """A named object of the organisation (a region, a service, a tier...) by id and code."""

    id: int
    code: str | None
    name_zh: str | None
    name_en: str | None


class PageInfo(Body):
    page: int = Field(ge=1)
    per_page: int = Field(ge=1, le=1000)
    total: int = Field(ge=0, description="Rows on every page together")


class Region(Body):
    id: int
    code: str
    name_zh: str
    name_en: str
    timezone: str | None


class RegionPage(PageInfo):
    items: list[Region]


class Placed(Body):
    """An object of the organisation that belongs to a region."""

    id: int
    code: str
    name_zh: str
    name_en: str
    region_id: int | None


class CollectionPoint(Placed):
    pass


class CollectionPointPage(PageInfo):
    items: list[CollectionPoint]


class Customer(Placed):
    pass


class CustomerPage(PageInfo):
    items: list[Customer]


class Me(Body):
    id: int
    username: str
    display_name: str
    roles: list[str]
    region_id: int | None
    collection_point_id: int | None
    customer_id: int | None


class AuditEntry(Body):
    id: int
    at: str = Field(json_schema_extra={"format": "date-time"})
    actor: str | None
    action: str
    object_type: str | None
    object_id: str | int | None
    summary: str | None
    before: dict[str, Any] | None = Field(
        description="Free-form: the changed columns' values before (a JSON column may hold any JSON);"
        " for a security event, what the event recorded"
    )
    after: dict[str, Any] | None = Field(description="Free-form: as before, after the change")


class AuditPage(Body):
    page: int
    items: list[AuditEntry]


class Job(Body):
    """A background job's state (perception.core.jobs.state)."""

    id: str
    name: str
    status: str = Field(description="queued, running, done or failed")
    status_label: str
    step: str | None
    step_label: str | None
    done: int | None
    total: int | None
    percent: int | float | None
    attempts: int
    retries: int
    max_attempts: int
    error: str | None
    created_at: str
    next_attempt_at: str | None
    finished_at: str | None


class ImportSample(Body):
    row: int
    external_id: str | None
    changes: dict[str, tuple[str | float | None, str | float | None]] | list[str] = Field(
        description="{column: [stored, incoming]} (tickets, KPI values), or the changed fields' names"
        " (survey history)"
    )


class ImportResult(Body):
    """What an import did or, with ?dry_run=1, would do (tickets, KPI values, history files)."""

    batch_id: int | None
    kind: str
    dry_run: bool
    rows_total: int
    rows_new: int
    rows_changed: int
    rows_unchanged: int
    file_format: str | None
    encoding: str | None
    seconds: float
    duplicate_of: int | None
    sample: list[ImportSample]
    notes: list[ProblemItem]


# A file upload in place of a JSON body (the history and ticket imports).
UPLOAD = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "properties": {"file": {"type": "string", "format": "binary", "description": "CSV or XLSX"}},
            "required": ["file"],
        }
    }
}
