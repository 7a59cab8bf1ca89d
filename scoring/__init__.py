"""Perception's analytics core: experience measures with intervals, change and trend tests,
SERVQUAL gaps, reliability, the composite perception index, importance-performance and key
drivers, standard attainment, the KPI-versus-experience comparison and the five-principle check.

Pure NumPy/SciPy: no Flask, no SQLAlchemy, no import of ``scoring.text`` (jieba is heavy; import
``scoring.text`` explicitly where it is needed). Inputs are sequences, NumPy arrays or small frozen
dataclasses; results are frozen dataclasses with ``to_dict()`` / ``to_json()``.

SciPy is imported inside the functions that use it, so ``import scoring`` loads NumPy only and
the web app starts without SciPy (tests/e2e/test_startup_imports.py).
"""

from scoring.association import (
    GrangerTest,
    KpiExperienceCorrelations,
    LagCorrelation,
    LeadLagResult,
    RankCorrelation,
    granger_f_test,
    kpi_experience_correlations,
    lead_lag,
    rank_correlation,
)
from scoring.attainment import AttainmentResult, PeriodAttainment, is_met, margin, standard_attainment
from scoring.change import (
    ChangeResult,
    compare_means,
    compare_means_from_stats,
    compare_nps,
    compare_shares,
    min_detectable_change_mean,
    min_detectable_change_share,
)
from scoring.comparison import (
    QUADRANTS,
    CellComparison,
    ClassifiedCells,
    ComparisonCell,
    KpiExperienceReport,
    classify_kpi_experience,
    compare_kpi_experience,
    compare_one,
)
from scoring.drivers import (
    IPA_QUADRANTS,
    DriverWeight,
    IpaPoint,
    IpaResult,
    KeyDriverResult,
    importance_performance,
    key_drivers,
)
from scoring.grouping import GroupIndex, group_index
from scoring.index import FEEDBACK_DIMENSIONS, perception_index_by_group
from scoring.intervals import bootstrap_interval, nps_interval, t_interval, wilson_interval
from scoring.measures import (
    bottom_box_by_group,
    ces_by_group,
    csat,
    csat_by_group,
    mean_by_group,
    mean_from_stats,
    nps,
    nps_by_group,
    nps_from_counts,
    share_from_counts,
    top_box_by_group,
)
from scoring.principles import PrincipleReport, PrincipleResult, StandardSpec, check_principles
from scoring.reliability import AlphaResult, ItemReliability, alpha_by_dimension, cronbach_alpha
from scoring.results import DEFAULT_MIN_N, GroupMeasure, JsonResult, Message
from scoring.servqual import (
    DimensionWeight,
    GapEstimate,
    ServqualResult,
    WeightedServqual,
    servqual_gaps,
    weighted_servqual,
)
from scoring.trend import (
    DropCheck,
    DropReport,
    TrendResult,
    detect_drop_means,
    detect_drop_shares,
    trend_slope,
)

__all__ = [
    "DEFAULT_MIN_N",
    "FEEDBACK_DIMENSIONS",
    "IPA_QUADRANTS",
    "QUADRANTS",
    "AlphaResult",
    "AttainmentResult",
    "CellComparison",
    "ChangeResult",
    "ClassifiedCells",
    "ComparisonCell",
    "DimensionWeight",
    "DriverWeight",
    "DropCheck",
    "DropReport",
    "GapEstimate",
    "GrangerTest",
    "GroupIndex",
    "GroupMeasure",
    "IpaPoint",
    "IpaResult",
    "ItemReliability",
    "JsonResult",
    "KeyDriverResult",
    "KpiExperienceCorrelations",
    "KpiExperienceReport",
    "LagCorrelation",
    "LeadLagResult",
    "Message",
    "PeriodAttainment",
    "PrincipleReport",
    "PrincipleResult",
    "RankCorrelation",
    "ServqualResult",
    "StandardSpec",
    "TrendResult",
    "WeightedServqual",
    "alpha_by_dimension",
    "bootstrap_interval",
    "bottom_box_by_group",
    "ces_by_group",
    "check_principles",
    "classify_kpi_experience",
    "compare_kpi_experience",
    "compare_means",
    "compare_means_from_stats",
    "compare_nps",
    "compare_one",
    "compare_shares",
    "cronbach_alpha",
    "csat",
    "csat_by_group",
    "detect_drop_means",
    "detect_drop_shares",
    "granger_f_test",
    "group_index",
    "importance_performance",
    "is_met",
    "kpi_experience_correlations",
    "key_drivers",
    "lead_lag",
    "margin",
    "min_detectable_change_mean",
    "min_detectable_change_share",
    "mean_by_group",
    "mean_from_stats",
    "nps",
    "nps_by_group",
    "nps_from_counts",
    "nps_interval",
    "perception_index_by_group",
    "rank_correlation",
    "servqual_gaps",
    "weighted_servqual",
    "share_from_counts",
    "standard_attainment",
    "t_interval",
    "top_box_by_group",
    "trend_slope",
    "wilson_interval",
]
