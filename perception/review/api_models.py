"""The bodies of this phase's API (pydantic): perception.api.openapi documents their JSON Schema."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from perception.api.schemas import Bilingual, Body


class ReviewImprovementsListItemResultAfter(Body):
    ci_high: float | None
    ci_low: float | None
    estimate: float | None
    from_: str | None = Field(alias="from")
    n: float | None
    to: str | None


ReviewImprovementsListItemResultBaseline = ReviewImprovementsListItemResultAfter  # the same shape


ReviewImprovementsListItemResultMessage = Bilingual  # the shared bilingual text


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


# The single item is the same item_json as a list's row (its result may be absent too).
ReviewImprovementGet = ReviewImprovementsListItem


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


ReviewText = Bilingual | str  # user data written in one language is a plain string


class ReviewEvidenceRef(Body):
    """Where a finding's evidence is: a section and, optionally, a table row's anchor key."""

    section: str | None
    key: str | None


ReviewCell = str | int | float | bool | Bilingual | ReviewEvidenceRef | None


class ReviewColumn(Body):
    """A table's column (perception.review.services.blocks.column)."""

    key: str
    label: Bilingual
    format: Literal["text", "int", "pct", "pp", "num1", "num2", "date"]
    align: str


class ReviewChartGroup(Body):
    label: ReviewText
    value: float | None
    low: float | None = None
    high: float | None = None
    n: float | None = None


class ReviewChartPoint(Body):
    label: ReviewText
    x: float | None
    y: float | None


class ReviewChartSeries(Body):
    label: ReviewText
    values: list[float | None]


class ReviewChartData(Body):
    """A chart's inputs, by kind (perception.review.services.charts.render_chart): interval_bar
    (groups, y_label, min_n, ...), quadrant (points), trend (periods, series) or heatmap (rows, cols,
    values)."""

    groups: list[ReviewChartGroup] | None = None
    y_label: ReviewText | None = None
    min_n: int | None = None
    low_sample_label: ReviewText | None = None
    reference: float | None = None
    reference_label: ReviewText | None = None
    points: list[ReviewChartPoint] | None = None
    periods: list[str] | None = None
    series: list[ReviewChartSeries] | None = None
    target: float | None = None
    rows: list[ReviewText] | None = None
    cols: list[ReviewText] | None = None
    values: list[list[float | None]] | None = None
    colorbar_label: ReviewText | None = None


class ReviewBlock(Body):
    """A block of a review's content (perception.review.services.blocks): a paragraph (text), a
    table (key, title, columns, rows, empty, weights) or a chart (key, kind, title, data)."""

    type: Literal["paragraph", "table", "chart"]
    text: ReviewText | None = None
    key: str | None = None
    title: Bilingual | None = None
    columns: list[ReviewColumn] | None = None
    rows: list[dict[str, ReviewCell]] | None = Field(
        default=None,
        description="One object per row keyed by the column keys (their set is the table's), with"
        " '_key' for an evidence anchor findings link to",
    )
    empty: Bilingual | None = None
    weights: list[float] | None = None
    kind: Literal["interval_bar", "quadrant", "trend", "heatmap"] | None = None
    data: ReviewChartData | None = None


ReviewGetContentRegisterBlock = ReviewBlock  # the same concept


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


ReviewGetContentScorecardBlock = ReviewBlock  # the same concept


class ReviewGetContentScorecard(Body):
    blocks: list[ReviewGetContentScorecardBlock]


ReviewGetContentSectionBlock = ReviewBlock  # the same concept


class ReviewCoverageFacts(Body):
    cells: int
    covered: int
    partial: int
    gaps: int
    share: float | None
    unmeasured: int
    services_without_plan: int


class ReviewPointFact(Body):
    """A collection point's report completeness (section_health)."""

    key: str
    point: Bilingual
    region: Bilingual
    counted: int
    on_time: int
    late: int
    missing: int
    rate: float
    low: float
    high: float
    on_time_rate: float
    mean_lateness_hours: float | None


class ReviewStandardFlag(Body):
    key: str
    code: str
    verdict: str
    reason: Bilingual
    service: ReviewText


class ReviewWatermelonFact(Body):
    key: str
    service: Bilingual
    region: Bilingual
    kpi: Bilingual
    gap: float | None
    relative_gap: float | None
    estimate: float | None
    target: float | None
    share: bool
    evidenced: bool
    n: int
    p_value: float | None
    rank: int


class ReviewDropFact(Body):
    """A region whose CSAT fell significantly against the previous period."""

    key: str
    region: ReviewText
    before: float | None
    after: float | None
    difference: float | None
    p_value: float | None


class ReviewOverdueFact(Body):
    key: str
    code: str | None
    title: ReviewText


class ReviewGetContentSectionFacts(Body):
    """The figures a section's summary is written from; which members appear depends on the section."""

    coverage: ReviewCoverageFacts | None = None
    points: list[ReviewPointFact] | None = None
    changed: float | None = None
    flags: list[ReviewStandardFlag] | None = None
    csat_by_region: dict[str, list[int]] | None = Field(
        default=None, description="Region code -> [satisfied, answers]"
    )
    drops: list[ReviewDropFact] | None = None
    quadrant_counts: dict[str, int] | None = Field(default=None, description="Quadrant -> cells")
    quadrants: dict[str, str] | None = Field(default=None, description="Cell key -> quadrant")
    watermelons: list[ReviewWatermelonFact] | None = None
    common: float | None = None
    emerging: float | None = None
    handed_over: float | None = None
    opportunities: float | None = None
    completed_measured: float | None = None
    improved: float | None = None
    items: float | None = None
    overdue: list[ReviewOverdueFact] | None = None
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
    countersignatures: list[Countersignature]
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
