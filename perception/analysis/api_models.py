"""The bodies of this phase's API (pydantic): perception.api.openapi documents their JSON Schema."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from perception.api.schemas import Body


class AnalysisAlertsItem(Body):
    evidence_url: str | None
    id: int
    kind: str | None
    message_en: str | None
    message_zh: str | None
    period_start: str | None
    raised_at: str | None
    region_id: int | None
    service_id: int | None
    status: str | None


class AnalysisAlerts(Body):
    items: list[AnalysisAlertsItem]


class AnalysisDemandClassifiersCategory(Body):
    baseline_accuracy: Any
    cv_accuracy: Any
    cv_accuracy_std: Any
    folds: Any
    held_back_accuracy: float | None
    labels: list[Any]
    n_distinct: float | None
    n_from_people: float | None
    n_from_ratings: float | None
    n_held_back: float | None
    n_labelled: float | None
    per_class: list[Any]
    target: str | None
    trained_at: str | None


class AnalysisDemandClassifiersSentiment(Body):
    baseline_accuracy: float | None
    cv_accuracy: float | None
    cv_accuracy_std: float | None
    folds: float | None
    held_back_accuracy: float | None
    labels: list[str]
    n_distinct: float | None
    n_from_people: float | None
    n_from_ratings: float | None
    n_held_back: float | None
    n_labelled: float | None
    per_class: list[Any]
    target: str | None
    trained_at: str | None


class AnalysisDemandClassifiers(Body):
    category: AnalysisDemandClassifiersCategory
    sentiment: AnalysisDemandClassifiersSentiment


class AnalysisDemandFilters(Body):
    customer_id: int | None
    end: str | None
    grain: str | None
    region_id: int | None
    region_ids: list[int] | None
    service_id: int | None
    start: str | None
    tier_id: int | None


class AnalysisDemandLastRun(Body):
    id: int
    n_entries: float | None
    n_themes: float | None
    seconds: float | None
    started_at: str | None
    status: str | None


class AnalysisDemandNeeds(Body):
    common: list[Any]
    emerging: list[Any]
    min_customers: float | None
    min_regions: float | None
    period_end: str | None
    period_start: str | None


class AnalysisDemandTheme(Body):
    examples: list[list[int | str]]
    key: str | None
    label: str | None
    n_entries: float | None
    name: str | None
    size_total: float | None
    top_terms: list[str]


class AnalysisDemand(Body):
    classifiers: AnalysisDemandClassifiers
    filters: AnalysisDemandFilters
    last_run: AnalysisDemandLastRun
    n_entries: float | None
    n_unthemed: float | None
    needs: AnalysisDemandNeeds
    themes: list[AnalysisDemandTheme]


class AnalysisEvidenceComment(Body):
    category: str | None
    customer_id: int | None
    dimension: str | None
    id: int
    kind: str | None
    observed_on: str | None
    region_id: int | None
    sentiment: str | None
    source: str | None
    source_id: int | None
    text: str | None
    theme_key: str | None


AnalysisEvidenceFilters = AnalysisDemandFilters  # the same shape


class AnalysisEvidenceRow(Body):
    comments: list[str]
    customer_id: int | None
    dimension: str | None
    item: str | None
    kind: str | None
    observed_on: str | None
    region_id: int | None
    scale_max: float | None
    service_id: int | None
    source: str | None
    source_id: int | None
    value: float | None


class AnalysisEvidence(Body):
    comments: list[AnalysisEvidenceComment]
    filters: AnalysisEvidenceFilters
    page: int | None
    rows: list[AnalysisEvidenceRow]
    total: int | None


class AnalysisExperienceDimensionMeasure(Body):
    ci_high: float | None
    ci_low: float | None
    confidence: float | None
    detractors: float | None
    estimate: float | None
    key: list[str]
    low_sample: bool | None
    measure: str | None
    method: str | None
    n: float | None
    promoters: float | None
    sd: float | None
    successes: float | None


class AnalysisExperienceDimension(Body):
    dimension: str | None
    measure: AnalysisExperienceDimensionMeasure


AnalysisExperienceFilters = AnalysisDemandFilters  # the same shape


class AnalysisExperienceHeatRegion(Body):
    code: str | None
    id: int
    name_en: str | None
    name_zh: str | None


class AnalysisExperienceHeat(Body):
    dimensions: list[str]
    means: list[list[float]]
    n: list[list[float]]
    regions: list[AnalysisExperienceHeatRegion]


class AnalysisExperienceReliabilityItemResultItem(Body):
    alpha_if_deleted: float | None
    item: str | None
    item_total_correlation: float | None


class AnalysisExperienceReliabilityItemResult(Body):
    alpha: float | None
    ci_high: float | None
    ci_low: float | None
    confidence: float | None
    items: list[AnalysisExperienceReliabilityItemResultItem]
    k: float | None
    low_sample: bool | None
    n: float | None


class AnalysisExperienceReliabilityItem(Body):
    dimensions: list[str]
    result: AnalysisExperienceReliabilityItemResult


class AnalysisExperience(Body):
    dimensions: list[AnalysisExperienceDimension]
    driver_capped: bool | None
    driver_overall: str | None
    driver_respondents: float | None
    drivers: Any
    filters: AnalysisExperienceFilters
    heat: AnalysisExperienceHeat
    ipa: Any
    notes: list[str]
    reliability: list[AnalysisExperienceReliabilityItem]
    servqual: list[Any]


class AnalysisKpiVsExperienceCorrelations(Body):
    across_regions: list[Any]
    over_time: list[Any]


AnalysisKpiVsExperienceFilters = AnalysisDemandFilters  # the same shape


class AnalysisKpiVsExperienceQuadrantCounts(Body):
    both_met: float | None
    both_missed: float | None
    kpi_missed_experience_met: float | None
    watermelon: float | None


class AnalysisKpiVsExperienceUnmatchedItem(Body):
    kpi_code: str | None
    reason: str | None
    service_id: int | None


class WatermelonKpi(Body):
    """One KPI of a watermelon cell, met on the KPI side."""

    kpi_code: str
    kpi_name_zh: str | None
    kpi_name_en: str | None
    kpi_value: float | None
    kpi_target: float | None
    kpi_ci_low: float | None
    kpi_ci_high: float | None
    evidenced: bool
    reason: str | None


class WatermelonCell(Body):
    """A region x service cell whose KPIs are met while its experience misses its target."""

    key: str
    service_id: int
    service_code: str
    service_name_zh: str | None
    service_name_en: str | None
    region_id: int
    region_code: str
    region_name_zh: str | None
    region_name_en: str | None
    evidenced: bool = Field(description="Evidenced on both sides under the multiplicity rule")
    reason: str | None = Field(description="Why a candidate is not evidenced (n, interval)")
    n: int
    experience_estimate: float | None
    experience_ci_low: float | None
    experience_ci_high: float | None
    experience_target: float | None
    q_value: float | None = Field(description="Benjamini-Hochberg adjusted p across the cells tested")
    kpis: list[WatermelonKpi]


class WatermelonCells(Body):
    headline: int = Field(description="How many cells are evidenced (the headline's count)")
    evidenced: list[WatermelonCell]
    candidates: list[WatermelonCell]


class AnalysisKpiVsExperience(Body):
    watermelon_cells: WatermelonCells
    cells: list[Any]
    correlations: AnalysisKpiVsExperienceCorrelations
    filters: AnalysisKpiVsExperienceFilters
    lead_lag: list[Any]
    quadrant_counts: AnalysisKpiVsExperienceQuadrantCounts
    unmatched: list[AnalysisKpiVsExperienceUnmatchedItem]
    watermelons: list[Any]


class AnalysisKpisBreache(Body):
    comparator: str | None
    kpi_code: str | None
    period: str | None
    region_code: str | None
    region_id: int | None
    service_code: str | None
    target: float | None
    value: float | None


class AnalysisKpisByRegionItemAttainmentPeriod(Body):
    margin: float | None
    met: bool | None
    period: str | None
    relative_margin: float | None
    target: float | None
    value: float | None


class AnalysisKpisByRegionItemAttainment(Body):
    best_margin: float | None
    comparator: str | None
    mean_margin: float | None
    n_measured: float | None
    n_met: float | None
    periods: list[AnalysisKpisByRegionItemAttainmentPeriod]
    share_met: float | None
    worst_margin: float | None


class AnalysisKpisByRegionItem(Body):
    attainment: AnalysisKpisByRegionItemAttainment
    definition_id: int | None
    kpi_code: str | None
    kpi_name_en: str | None
    kpi_name_zh: str | None
    region_code: str | None
    region_id: int | None
    service_code: str | None
    service_id: int | None
    unit: str | None


AnalysisKpisFilters = AnalysisDemandFilters  # the same shape


AnalysisKpisSummaryItemAttainmentPeriod = AnalysisKpisByRegionItemAttainmentPeriod  # the same shape


class AnalysisKpisSummaryItemAttainment(Body):
    best_margin: float | None
    comparator: str | None
    mean_margin: float | None
    n_measured: float | None
    n_met: float | None
    periods: list[AnalysisKpisSummaryItemAttainmentPeriod]
    share_met: float | None
    worst_margin: float | None


class AnalysisKpisSummaryItem(Body):
    attainment: AnalysisKpisSummaryItemAttainment
    definition_id: int | None
    kpi_code: str | None
    kpi_name_en: str | None
    kpi_name_zh: str | None
    region_code: str | None
    region_id: int | None
    service_code: str | None
    service_id: int | None
    unit: str | None


class AnalysisKpisTrend(Body):
    comparator: str | None
    definition_id: int | None
    kpi_code: str | None
    kpi_name_en: str | None
    kpi_name_zh: str | None
    periods: list[str]
    target: float | None
    values: list[float | None]


class AnalysisKpis(Body):
    breach_count: int | None
    breaches: list[AnalysisKpisBreache]
    by_region: list[AnalysisKpisByRegionItem]
    filters: AnalysisKpisFilters
    summary: list[AnalysisKpisSummaryItem]
    trends: list[AnalysisKpisTrend]


class Opportunity(Body):
    id: int
    kind: str
    theme_key: str | None
    title: str | None
    summary_zh: str | None
    summary_en: str | None
    period_start: str | None
    period_end: str | None
    status: str
    owner_id: int | None
    region_ids: list[int]
    notes: str | None


class AnalysisOpportunities(Body):
    items: list[Opportunity]


class AnalysisOverviewChangesLookTest(Body):
    baseline_estimate: float | None
    difference: float | None
    flagged: bool | None
    measure: str | None
    method: str | None
    n_baseline: float | None
    n_recent: float | None
    p_value: float | None
    q_value: float | None
    reason: str | None
    recent_estimate: float | None
    tested: bool | None
    unit: list[int | str]


class AnalysisOverviewChangesLook(Body):
    alpha: float | None
    correction: str | None
    min_n_baseline: float | None
    min_n_recent: float | None
    n_tested: float | None
    tests: list[AnalysisOverviewChangesLookTest]


class AnalysisOverviewChangesWindow(Body):
    baseline_start: str | None
    end: str | None
    recent_start: str | None


class AnalysisOverviewChanges(Body):
    look: AnalysisOverviewChangesLook
    window: AnalysisOverviewChangesWindow


class AnalysisOverviewEvent(Body):
    category: str | None
    collection_point_id: int | None
    customer_id: int | None
    description: str | None
    entry_id: int | None
    event_date: str | None
    impact: str | None
    region_id: int | None
    report_id: int | None
    service_id: int | None


AnalysisOverviewFilters = AnalysisDemandFilters  # the same shape


class AnalysisOverviewRegionCes(Body):
    ci_high: float | None
    ci_low: float | None
    confidence: float | None
    detractors: float | None
    estimate: float | None
    key: list[float]
    low_sample: bool | None
    measure: str | None
    method: str | None
    n: float | None
    promoters: float | None
    sd: float | None
    successes: float | None


AnalysisOverviewRegionCsat = AnalysisOverviewRegionCes  # the same shape


AnalysisOverviewRegionIndex = AnalysisOverviewRegionCes  # the same shape


AnalysisOverviewRegionNps = AnalysisOverviewRegionCes  # the same shape


class AnalysisOverviewRegion(Body):
    ces: AnalysisOverviewRegionCes
    code: str | None
    csat: AnalysisOverviewRegionCsat
    group: str | None
    id: int
    index: AnalysisOverviewRegionIndex | None
    name_en: str | None
    name_zh: str | None
    nps: AnalysisOverviewRegionNps


AnalysisOverviewServiceCes = AnalysisOverviewRegionCes  # the same shape


AnalysisOverviewServiceCsat = AnalysisOverviewRegionCes  # the same shape


AnalysisOverviewServiceIndex = AnalysisOverviewRegionCes  # the same shape


AnalysisOverviewServiceNps = AnalysisOverviewRegionCes  # the same shape


class AnalysisOverviewService(Body):
    ces: AnalysisOverviewServiceCes | None
    code: str | None
    csat: AnalysisOverviewServiceCsat | None
    group: str | None
    id: int
    index: AnalysisOverviewServiceIndex | None
    name_en: str | None
    name_zh: str | None
    nps: AnalysisOverviewServiceNps | None


class AnalysisOverviewTotalCes(Body):
    ci_high: float | None
    ci_low: float | None
    confidence: float | None
    detractors: float | None
    estimate: float | None
    key: list[Any]
    low_sample: bool | None
    measure: str | None
    method: str | None
    n: float | None
    promoters: float | None
    sd: float | None
    successes: float | None


AnalysisOverviewTotalCsat = AnalysisOverviewTotalCes  # the same shape


AnalysisOverviewTotalIndex = AnalysisOverviewTotalCes  # the same shape


AnalysisOverviewTotalNps = AnalysisOverviewTotalCes  # the same shape


class AnalysisOverviewTotal(Body):
    ces: AnalysisOverviewTotalCes
    code: str | None
    csat: AnalysisOverviewTotalCsat
    group: str | None
    id: Any
    index: AnalysisOverviewTotalIndex | None
    name_en: str | None
    name_zh: str | None
    nps: AnalysisOverviewTotalNps


AnalysisOverviewTrendItemCsat = AnalysisExperienceDimensionMeasure  # the same shape


AnalysisOverviewTrendItemIndex = AnalysisExperienceDimensionMeasure  # the same shape


AnalysisOverviewTrendItemNps = AnalysisExperienceDimensionMeasure  # the same shape


class AnalysisOverviewTrendItem(Body):
    csat: AnalysisOverviewTrendItemCsat | None
    index: AnalysisOverviewTrendItemIndex | None
    label: str | None
    nps: AnalysisOverviewTrendItemNps | None
    period: str | None


class AnalysisOverview(Body):
    changes: AnalysisOverviewChanges
    events: list[AnalysisOverviewEvent]
    filters: AnalysisOverviewFilters
    regions: list[AnalysisOverviewRegion]
    services: list[AnalysisOverviewService]
    total: AnalysisOverviewTotal
    trend: list[AnalysisOverviewTrendItem]


class OpportunityInput(Body):
    kind: Literal["common", "emerging"]
    theme_key: str
    from_: str = Field(alias="from", description="First day or ISO week of the period")
    to: str = Field(description="Last day or ISO week of the period (included)")
    owner_id: int | None = None


class OpportunityChange(Body):
    status: str | None = None
    owner_id: int | None = Field(default=None, description="null clears the owner")
    notes: str | None = None


class TextAnalysisQueued(Body):
    queued: bool
    job_id: str | None
    status_url: str | None


class ThemeName(Body):
    name: str


class Theme(Body):
    key: str
    name: str


class LabelInput(Body):
    category: str | None = None
    sentiment: str | None = None


class Label(Body):
    entry_id: int
    category: str | None
    sentiment: str | None
