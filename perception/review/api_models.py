"""The bodies of this phase's API (pydantic): perception.api.openapi documents their JSON Schema."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from perception.api.schemas import Body


class ReviewImprovementsListItemResultAfter(Body):
    ci_high: float | None
    ci_low: float | None
    estimate: float | None
    from_: str | None = Field(alias="from")
    n: float | None
    to: str | None


ReviewImprovementsListItemResultBaseline = ReviewImprovementsListItemResultAfter  # the same shape


class ReviewImprovementsListItemResultMessage(Body):
    en: str | None
    zh: str | None


class ReviewImprovementsListItemResult(Body):
    computed_on: str | None
    metric: str | None
    status: str | None
    target: float | None
    after: ReviewImprovementsListItemResultAfter | None = None
    baseline: ReviewImprovementsListItemResultBaseline | None = None
    higher_is_better: bool | None = None
    message: ReviewImprovementsListItemResultMessage | None = None
    window_complete: bool | None = None


class ReviewImprovementsListItem(Body):
    baseline_from: str | None
    baseline_n: float | None
    baseline_to: str | None
    baseline_value: float | None
    business_case: str | None
    code: str | None
    completed_on: str | None
    description: str | None
    due_on: str | None
    effort: float | None
    evidence: str | None
    finding_id: int | None
    id: int
    measure_weeks: float | None
    metric: str | None
    metric_dimension: str | None
    metric_kpi_code: str | None
    metric_service_id: int | None
    overdue: bool | None
    owner_id: int | None
    priority: str | None
    priority_score: float | None
    region_id: int | None
    result: ReviewImprovementsListItemResult | None
    result_computed_at: str | None
    review_id: int | None
    source: str | None
    source_ref: str | None
    status: str | None
    target_value: float | None
    title: str | None
    title_en: str | None = None
    value: float | None


class ReviewImprovementsList(Body):
    items: list[ReviewImprovementsListItem]


ReviewImprovementGetResultAfter = ReviewImprovementsListItemResultAfter  # the same shape


ReviewImprovementGetResultBaseline = ReviewImprovementsListItemResultAfter  # the same shape


ReviewImprovementGetResultMessage = ReviewImprovementsListItemResultMessage  # the same shape


class ReviewImprovementGetResult(Body):
    after: ReviewImprovementGetResultAfter
    baseline: ReviewImprovementGetResultBaseline
    computed_on: str | None
    higher_is_better: bool | None
    message: ReviewImprovementGetResultMessage
    metric: str | None
    status: str | None
    target: float | None
    window_complete: bool | None


class ReviewImprovementGet(Body):
    baseline_from: str | None
    baseline_n: float | None
    baseline_to: str | None
    baseline_value: float | None
    business_case: str | None
    code: str | None
    completed_on: str | None
    description: str | None
    due_on: str | None
    effort: float | None
    evidence: str | None
    finding_id: int | None
    id: int
    measure_weeks: float | None
    metric: str | None
    metric_dimension: str | None
    metric_kpi_code: str | None
    metric_service_id: int | None
    overdue: bool | None
    owner_id: int | None
    priority: str | None
    priority_score: float | None
    region_id: int | None
    result: ReviewImprovementGetResult
    result_computed_at: str | None
    review_id: int | None
    source: str | None
    source_ref: str | None
    status: str | None
    target_value: float | None
    title: str | None
    title_en: str | None = None
    value: float | None


class Countersignature(Body):
    customer_id: int
    signatory: str | None
    signed_at: str


class ReviewReviewsListItem(Body):
    code: str | None
    countersignatures: list[Countersignature]
    customer_signatory: str | None = Field(
        default=None, description="The first countersignature's (compatibility)"
    )
    customer_signed_at: str | None = Field(
        default=None, description="The first countersignature's (compatibility)"
    )
    id: int
    label_en: str | None
    label_zh: str | None
    owner_signatory: str | None
    owner_signed_at: str | None
    period_end: str | None
    period_start: str | None
    snapshot_sha256: str | None
    status: str | None


class ReviewReviewsList(Body):
    items: list[ReviewReviewsListItem]


ReviewGetContentPreviousLabel = ReviewImprovementsListItemResultMessage  # the same shape


class ReviewGetContentPrevious(Body):
    code: str | None
    label: ReviewGetContentPreviousLabel


class ReviewGetContentRegisterBlock(Body):
    columns: list[dict[str, Any]]
    empty: dict[str, Any]
    key: str | None
    rows: list[dict[str, Any]]
    title: dict[str, Any]
    type: str | None
    weights: list[float]


class ReviewGetContentRegisterFacts(Body):
    open: float | None
    overdue: float | None


ReviewGetContentRegisterTitle = ReviewImprovementsListItemResultMessage  # the same shape


class ReviewGetContentRegister(Body):
    blocks: list[ReviewGetContentRegisterBlock]
    code: str | None
    facts: ReviewGetContentRegisterFacts
    title: ReviewGetContentRegisterTitle


ReviewGetContentReviewLabel = ReviewImprovementsListItemResultMessage  # the same shape


class ReviewGetContentReview(Body):
    code: str | None
    end: str | None
    id: int
    label: ReviewGetContentReviewLabel
    start: str | None


class ReviewGetContentScorecardBlock(Body):
    columns: list[dict[str, Any]] | None = None
    empty: dict[str, Any] | None = None
    key: str | None
    rows: list[dict[str, Any]] | None = None
    title: dict[str, Any]
    type: str | None
    weights: list[float] | None = None
    data: dict[str, Any] | None = None
    kind: str | None = None


class ReviewGetContentScorecard(Body):
    blocks: list[ReviewGetContentScorecardBlock]


class ReviewGetContentSectionBlock(Body):
    text: dict[str, Any] | None = None
    type: str | None
    columns: list[dict[str, Any]] | None = None
    empty: dict[str, Any] | None = None
    key: str | None = None
    rows: list[dict[str, Any]] | None = None
    title: dict[str, Any] | None = None
    weights: list[float] | None = None
    data: dict[str, Any] | None = None
    kind: str | None = None


class ReviewGetContentSectionFacts(Body):
    coverage: dict[str, Any] | None = None
    points: list[dict[str, Any]] | None = None
    changed: float | None = None
    flags: list[dict[str, Any]] | None = None
    csat_by_region: dict[str, Any] | None = None
    drops: list[Any] | None = None
    quadrant_counts: dict[str, Any] | None = None
    quadrants: dict[str, Any] | None = None
    watermelons: list[Any] | None = None
    common: float | None = None
    emerging: float | None = None
    handed_over: float | None = None
    opportunities: float | None = None
    completed_measured: float | None = None
    improved: float | None = None
    items: float | None = None
    overdue: list[dict[str, Any]] | None = None
    decisions: float | None = None
    findings: float | None = None


ReviewGetContentSectionTitle = ReviewImprovementsListItemResultMessage  # the same shape


class ReviewGetContentSection(Body):
    blocks: list[ReviewGetContentSectionBlock]
    code: str | None
    facts: ReviewGetContentSectionFacts
    title: ReviewGetContentSectionTitle


ReviewGetContentSummaryItemText = ReviewImprovementsListItemResultMessage  # the same shape


class ReviewGetContentSummaryItem(Body):
    key: str | None
    kind: str | None
    rank: int | None
    section: str | None
    text: ReviewGetContentSummaryItemText


class ReviewGetContent(Body):
    computed_at: str | None
    previous: ReviewGetContentPrevious
    register_: ReviewGetContentRegister = Field(alias="register")
    review: ReviewGetContentReview
    schema_: float | None = Field(alias="schema")
    scorecard: ReviewGetContentScorecard
    sections: list[ReviewGetContentSection]
    summary: list[ReviewGetContentSummaryItem]


class ReviewGetFinding(Body):
    evidence_key: str | None
    evidence_note: str | None
    evidence_section: str | None
    id: int
    kind: str | None
    position: int | None
    text: str | None = Field(description="Chinese text (or the only text given)")
    text_en: str | None = Field(default=None, description="English text")


class ReviewGet(Body):
    code: str | None
    content: ReviewGetContent
    countersignatures: list[Any]
    customer_signatory: str | None = Field(
        default=None, description="The first countersignature's (compatibility)"
    )
    customer_signed_at: str | None = Field(
        default=None, description="The first countersignature's (compatibility)"
    )
    findings: list[ReviewGetFinding]
    id: int
    label_en: str | None
    label_zh: str | None
    owner_signatory: str | None
    owner_signed_at: str | None
    period_end: str | None
    period_start: str | None
    snapshot_sha256: str | None
    status: str | None


class ImprovementInput(Body):
    """An improvement item's fields (a change sends only those it changes)."""

    title: str | None = Field(default=None, description="Chinese title (this or title_en is required)")
    title_en: str | None = Field(default=None, description="English title")
    description: str | None = None
    source: str | None = None
    source_ref: str | None = None
    evidence: str | None = None
    business_case: str | None = None
    value: int | None = Field(default=None, description="1-5")
    effort: int | None = Field(default=None, description="1-5")
    owner_id: int | None = None
    due_on: str | None = Field(default=None, json_schema_extra={"format": "date"})
    status: str | None = None
    completed_on: str | None = Field(default=None, json_schema_extra={"format": "date"})
    region_id: int | None = None
    review_id: int | None = None
    finding_id: int | None = None
    metric: str | None = None
    metric_service_id: int | None = None
    metric_dimension: str | None = None
    metric_kpi_code: str | None = None
    baseline_from: str | None = Field(default=None, json_schema_extra={"format": "date"})
    baseline_to: str | None = Field(default=None, json_schema_extra={"format": "date"})
    target_value: float | None = None
    measure_weeks: int | None = None


class MeasuredResult(Body):
    code: str
    result: ReviewImprovementsListItemResult | None


class ReviewOn(Body):
    on: str | None = Field(default=None, json_schema_extra={"format": "date"}, description="Default: today")


class EnsuredReview(ReviewReviewsListItem):
    created: bool


class FindingInput(Body):
    """A finding in Chinese, English or both: at least one of ``text`` and ``text_en``."""

    kind: Literal["finding", "decision"]
    text: str | None = Field(default=None, description="Chinese text")
    text_en: str | None = Field(default=None, description="English text")
    evidence_section: str
    evidence_key: str | None = None
    evidence_note: str | None = None


class FindingAdded(Body):
    id: int
    position: int


class FindingDeleted(Body):
    deleted: int


class PdfInput(Body):
    lang: Literal["zh", "en"] = "zh"


class PdfState(Body):
    """202: queued, with the job to watch; 200: the PDF's state when no job was needed."""

    job_id: str | None
    status: str
    status_url: str | None = None
    pages: int | None = None
    bytes: int | None = None
    sha256: str | None = None
    error: str | None = None
