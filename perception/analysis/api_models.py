"""The bodies of this phase's API (pydantic): perception.api.openapi documents their JSON Schema."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from perception.api.schemas import Body, Estimate, Message, Named


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


class ClassifierStatus(Body):
    """A trained text classifier's model card (perception.analysis.services.text_labels.ClassifierStatus);
    the accuracies are balanced accuracies, null before the first run."""

    baseline_accuracy: float | None
    cv_accuracy: float | None
    cv_accuracy_std: float | None
    folds: int | None
    held_back_accuracy: float | None
    labels: list[str]
    n_distinct: float | None
    n_from_people: float | None
    n_from_ratings: float | None
    n_held_back: float | None
    n_labelled: float | None
    per_class: list[dict[str, Any]] = Field(
        description="Free-form and today always empty: per-class scores are no longer stored (the"
        " balanced accuracy replaced them); kept for older clients"
    )
    target: str | None
    trained_at: str | None


AnalysisDemandClassifiersCategory = ClassifierStatus  # the same concept


AnalysisDemandClassifiersSentiment = ClassifierStatus  # the same concept


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


class CommonNeed(Body):
    """A theme raised by many customers across regions (demand.CommonNeedRow)."""

    theme_key: str
    label: str
    n_entries: int
    n_customers: int
    n_regions: int
    region_ids: list[int]
    customer_ids: list[int]


class EmergingNeed(Body):
    """A theme whose share rose significantly against the previous period (demand.EmergingNeedRow)."""

    theme_key: str
    label: str
    count: int
    total: int
    previous_count: int
    previous_total: int
    share: float
    previous_share: float
    rate_ratio: float
    p_value: float
    q_value: float = Field(description="Benjamini-Hochberg adjusted p")
    region_ids: list[int]


class AnalysisDemandNeeds(Body):
    common: list[CommonNeed]
    emerging: list[EmergingNeed]
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


AnalysisExperienceDimensionMeasure = Estimate  # the shared estimate


class AnalysisExperienceDimension(Body):
    dimension: str | None
    measure: AnalysisExperienceDimensionMeasure | None = Field(
        description="Null where nobody of this voice rated the dimension"
    )


AnalysisExperienceFilters = AnalysisDemandFilters  # the same shape


AnalysisExperienceHeatRegion = Named  # the shared named reference


class AnalysisExperienceHeat(Body):
    dimensions: list[str]
    means: list[list[float | None]] = Field(
        description="Region x dimension means of customers' answers; null where nobody rated"
    )
    n: list[list[float]]
    reports_means: list[list[float | None]] = Field(
        description="Region x dimension means of the collectors' weekly-report ratings, shown apart;"
        " null where none"
    )
    reports_n: list[list[float]]
    regions: list[AnalysisExperienceHeatRegion] = Field(description="Regions with a rating of either voice")


class ExperienceVoices(Body):
    """Which sources each voice of the experience figures is made of (perception_index.VOICES)."""

    headline: Literal["customers"] = Field(description="The voice of dimensions, heat means, IPA and drivers")
    customers: list[str] = Field(description="Customers' own answers: survey, callback, sampling")
    reports: list[str] = Field(description="The collectors' weekly-report ratings: feedback")


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


class IpaPoint(Body):
    """A dimension's importance and performance (scoring.drivers.IpaPoint)."""

    dimension: str
    importance: float | None
    performance: float | None
    n: int
    quadrant: str = Field(description="concentrate_here, keep_up, low_priority or possible_overkill")


class IpaResult(Body):
    """Importance-performance analysis (scoring.drivers.IpaResult)."""

    points: list[IpaPoint]
    importance_cut: float | None
    performance_cut: float | None
    method: str
    n: int


class DriverWeight(Body):
    """A dimension's share of the explained variance of the overall rating (scoring.drivers.DriverWeight)."""

    dimension: str
    weight: float | None = Field(description="Share of R^2 explained by the dimension (weights sum to R^2)")
    share: float | None = Field(description="weight / R^2 (shares sum to 1)")
    rank: int
    ci_low: float | None
    ci_high: float | None
    vif: float | None


class KeyDriverResult(Body):
    """Key drivers of the overall rating (scoring.drivers.KeyDriverResult)."""

    drivers: list[DriverWeight]
    r_squared: float | None
    n: int
    method: str
    max_abs_correlation: float | None
    collinear: bool
    warnings: list[Message]
    missing: str = Field(description="listwise or pairwise")
    min_pair_n: int | None
    n_boot: int
    confidence: float | None


class ServqualGap(Body):
    """The mean paired gap P - E of an item, a dimension or overall (experience.GapRow)."""

    level: str = Field(description="item, dimension or overall")
    name: str
    dimension: str
    n: int
    perception: float | None
    expectation: float | None
    gap: Estimate


class ServqualWeightedGap(Body):
    """An overall gap over the respondents who gave importance points (servqual_weights.WeightedGapRow)."""

    name: str = Field(description="weighted (each respondent's own points) or unweighted (same respondents)")
    n: int
    perception: float | None
    expectation: float | None
    gap: Estimate


class ServqualDimensionWeight(Body):
    """The mean share of 100 points respondents gave a dimension (scoring.servqual.DimensionWeight)."""

    dimension: str
    n: int
    points: float | None
    ci_low: float | None
    ci_high: float | None


class ServqualWeighting(Body):
    """The weighted SERVQUAL gap (services.servqual_weights.ServqualWeighting): each respondent's gap
    weighted by their own points; respondents without points are left out and counted."""

    weighted: ServqualWeightedGap
    unweighted: ServqualWeightedGap
    weights: list[ServqualDimensionWeight]
    left_out: int
    confidence: float


class AnalysisExperience(Body):
    voices: ExperienceVoices
    dimensions: list[AnalysisExperienceDimension] = Field(description="The six means, customers' answers")
    reports_dimensions: list[AnalysisExperienceDimension] = Field(
        description="The six means of the collectors' weekly-report ratings, shown apart"
    )
    driver_capped: bool | None
    driver_overall: str | None
    driver_respondents: float | None
    drivers: KeyDriverResult | None = Field(description="Null when too few responses to estimate them")
    filters: AnalysisExperienceFilters
    heat: AnalysisExperienceHeat
    ipa: IpaResult | None = Field(description="Null when too few responses to estimate it")
    notes: list[str]
    reliability: list[AnalysisExperienceReliabilityItem]
    servqual: list[ServqualGap]
    servqual_weighting: ServqualWeighting | None = Field(
        default=None,
        description="Null when no respondent in the selection gave importance points (weights not asked)",
    )


class RankCorrelation(Body):
    """Spearman's rho with its interval (scoring.association.RankCorrelation); null where undefined."""

    rho: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float | None
    p_value: float | None
    n: int
    low_sample: bool


GroupCorrelation = tuple[list[str | None], RankCorrelation]


class AnalysisKpiVsExperienceCorrelations(Body):
    across_regions: list[GroupCorrelation] = Field(
        description="Pairs [[service, tier, period], correlation] across regions"
    )
    over_time: list[GroupCorrelation] = Field(
        description="Pairs [[service, region, tier], correlation] over periods"
    )


class KpiGroupResult(Body):
    """One tier pooled into a cell's KPI, judged against its own target
    (scoring.comparison.KpiGroupResult)."""

    label: str = Field(description="The tier's code")
    value: float | None
    target: float | None
    comparator: str
    met: bool = Field(description="Met its own target; the cell's KPI is met only if every tier is")
    margin: float | None = Field(description="Positive: better than its own target")
    n: int | None
    ci_low: float | None
    ci_high: float | None
    evidenced: bool


class CellComparison(Body):
    """A KPI against experience in one cell (scoring.comparison.CellComparison); NaN is null."""

    service: str
    region: str
    tier: str | None
    period: str | None
    quadrant: str
    kpi_value: float | None
    kpi_target: float | None
    kpi_met: bool
    kpi_margin: float | None = Field(description="Positive: better than the KPI target")
    experience_kind: str = Field(description="share or mean")
    experience_estimate: float | None
    experience_ci_low: float | None
    experience_ci_high: float | None
    experience_target: float | None
    experience_met: bool
    experience_gap: float | None = Field(description="Positive: better than the experience target")
    gap_ci_low: float | None
    gap_ci_high: float | None
    p_value: float | None
    n: int
    low_sample: bool
    evidenced: bool
    watermelon_rank: int | None
    message: Message
    kpi_ci_low: float | None
    kpi_ci_high: float | None
    kpi_evidenced: bool
    q_value: float | None
    reason: str
    kpi_groups: list[KpiGroupResult] = Field(
        default_factory=list,
        description="The tiers pooled into the KPI, each against its own target (empty: one tier)",
    )


class KpiExperienceCell(Body):
    """One service x region x KPI cell with its comparison and names (kpi_experience.CellView)."""

    key: str = Field(description="KPI|SERVICE|REGION codes")
    kpi_code: str
    kpi_name_zh: str
    kpi_name_en: str
    service_id: int
    service_code: str
    service_name_zh: str
    service_name_en: str
    region_id: int
    region_code: str
    region_name_zh: str
    region_name_en: str
    experience_standard: str
    experience_metric: str
    experience_dimension: str | None
    weeks_with_kpi: int
    experience_basis: str = Field(description="dimension:<code>, overall_csat, nps or ces")
    comparison: CellComparison
    tier_names: list[list[str]] = Field(
        default_factory=list, description="[code, zh, en] of each tier in comparison.kpi_groups"
    )


class LagCorrelation(Body):
    lag: int = Field(description="> 0: a KPI change goes with an experience change lag periods later")
    correlation: float | None
    n: int
    p_value: float | None


class GrangerTest(Body):
    order: int
    f_statistic: float | None
    p_value: float | None
    df_num: int
    df_den: int


class LeadLagResult(Body):
    """Whether the KPI leads experience (scoring.association.LeadLagResult)."""

    differenced: bool
    correlations: list[LagCorrelation]
    kpi_to_experience: list[GrangerTest]
    experience_to_kpi: list[GrangerTest]
    best_lag: int | None
    kpi_leads: bool
    alpha: float
    message: Message


class LeadLag(Body):
    cell: str = Field(description="The cell's key")
    result: LeadLagResult


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
    cells: list[KpiExperienceCell]
    correlations: AnalysisKpiVsExperienceCorrelations
    filters: AnalysisKpiVsExperienceFilters
    lead_lag: list[LeadLag]
    quadrant_counts: AnalysisKpiVsExperienceQuadrantCounts
    unmatched: list[AnalysisKpiVsExperienceUnmatchedItem]
    watermelons: list[KpiExperienceCell] = Field(
        description="Ranked: evidenced first, then largest shortfall"
    )


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


AnalysisKpisSummaryItemAttainment = AnalysisKpisByRegionItemAttainment  # the same concept


AnalysisKpisSummaryItem = AnalysisKpisByRegionItem  # the same concept


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


AnalysisOverviewRegionCes = Estimate  # the shared estimate


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


AnalysisOverviewTotalCes = Estimate  # the shared estimate


AnalysisOverviewTotalCsat = AnalysisOverviewTotalCes  # the same shape


AnalysisOverviewTotalIndex = AnalysisOverviewTotalCes  # the same shape


AnalysisOverviewTotalNps = AnalysisOverviewTotalCes  # the same shape


class AnalysisOverviewTotal(Body):
    ces: AnalysisOverviewTotalCes
    code: str | None
    csat: AnalysisOverviewTotalCsat
    group: str | None
    id: int | None = Field(description="Null: the total row names no region or service")
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
