"""The five-principle check of a service standard: explicit (明确性), measurable (可衡量性),
feasible (可行性), timely (及时性) and aligned (吻合性), each with an actionable reason in
Chinese and English.

Rules (documented so that a reviewer can argue with them):
- explicit: a numeric target, a valid comparator, a unit, and a quantity in the statement (an
  Arabic or full-width digit, a Chinese numeral followed by a unit word such as 三声 / 五分钟, or
  an English number word such as "three"); vague words (尽快, 及时, promptly ...) without a number fail.
- measurable: a numeric target, a metric name and one of the five measurement sources.
- feasible: a recorded work procedure, and history: the proposed rule replayed on the raw history
  it speaks of (scoring.feasibility: the share per period with best, median and latest and the
  threshold the history supports), or the measured values per period. No history: not feasible
  (issue 14: "fewer than 4 periods" once passed a rule 26 weeks of tickets refuted). The target must
  have been reached in at least one period (else infeasible) and, with at least ``min_periods``
  periods, must not be beaten in every one of them by more than the "wide margin"
  max(``weak_sd`` x SD of those values, ``weak_relative`` x |target|) (else too weak).
- timely: a reporting window (day/week/month/quarter) and, for a time-based standard (time unit,
  or time words in the metric or statement), a positive explicit time limit.
- aligned: the customer need it answers is recorded and confirmed by a customer representative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scoring.attainment import COMPARATORS, is_met, margin
from scoring.feasibility import PeriodValue, ReplayedHistory, supported_thresholds
from scoring.results import JsonResult
from scoring.statement_rules import has_quantity, mentions_time, vague_words

__all__ = [
    "MEASUREMENT_SOURCES",
    "PRINCIPLES",
    "WINDOWS",
    "PrincipleReport",
    "PrincipleResult",
    "StandardSpec",
    "check_principles",
]

PRINCIPLES = ("explicit", "measurable", "feasible", "timely", "aligned")
MEASUREMENT_SOURCES = ("kpi", "phone_callback", "sampling_comparison", "questionnaire", "feedback_record")
WINDOWS = ("day", "week", "month", "quarter")


@dataclass(frozen=True)
class StandardSpec:
    """What the check needs to know about one service standard (one version)."""

    code: str
    statement_zh: str
    statement_en: str
    metric: str
    measured_by: str  # one of MEASUREMENT_SOURCES
    comparator: str  # one of ">=", "<=", ">", "<"
    target: float | None
    unit: str | None
    window: str | None  # one of WINDOWS
    time_limit_minutes: float | None
    procedure: str | None
    customer_need: str | None
    need_confirmed_by_customer: bool


@dataclass(frozen=True)
class PrincipleResult(JsonResult):
    principle: str
    passed: bool
    reason_zh: str
    reason_en: str
    code: str


@dataclass(frozen=True)
class PrincipleReport(JsonResult):
    standard_code: str
    results: tuple[PrincipleResult, ...]
    passed: bool

    def result(self, principle: str) -> PrincipleResult:
        return next(r for r in self.results if r.principle == principle)


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


def _num(target: float | None) -> bool:
    return target is not None and math.isfinite(target)


def _fmt(value: float, unit: str | None) -> str:
    text = f"{value:.4g}"
    if unit in ("%", "％"):
        return text + "%"
    return f"{text} {unit}" if unit else text


def _result(principle: str, problems: list[tuple[str, str, str]], ok_zh: str, ok_en: str) -> PrincipleResult:
    if not problems:
        return PrincipleResult(principle, True, ok_zh, ok_en, f"{principle}_ok")
    return PrincipleResult(
        principle, False, "；".join(p[1] for p in problems), " ".join(p[2] for p in problems), problems[0][0]
    )


def _explicit(spec: StandardSpec) -> PrincipleResult:
    problems = []
    if not _num(spec.target):
        problems.append(
            (
                "explicit_no_target",
                "没有数值目标，请写明具体目标值（如 96%）",
                "No numeric target: state the target value (e.g. 96%).",
            )
        )
    if spec.comparator not in COMPARATORS:
        problems.append(
            (
                "explicit_no_comparator",
                f"比较方式“{spec.comparator}”无效，请选择 >=、<=、> 或 <",
                f"Comparator '{spec.comparator}' is not valid: use >=, <=, > or <.",
            )
        )
    if _blank(spec.unit):
        problems.append(
            (
                "explicit_no_unit",
                "没有单位，请写明单位（如 %、分钟）",
                "No unit: state the unit (e.g. %, minutes).",
            )
        )
    statement = f"{spec.statement_zh} {spec.statement_en}"
    if not has_quantity(statement):
        vague = vague_words(statement)
        if vague:
            problems.append(
                (
                    "explicit_vague",
                    f"表述使用了模糊词“{'、'.join(vague)}”而没有数字，请改为具体数量（如“3 声内接听”）",
                    f"The statement uses vague words ({', '.join(vague)}) without a number: "
                    "replace them with a quantity (e.g. 'answered within 3 rings').",
                )
            )
        else:
            problems.append(
                (
                    "explicit_no_quantity",
                    "表述中没有数量，请写明具体数量（如“30 分钟内响应”）",
                    "The statement gives no quantity: state one (e.g. 'respond within 30 minutes').",
                )
            )
    return _result(
        "explicit",
        problems,
        "目标、单位与表述中的数量都已明确",
        "Target, unit and the stated quantity are explicit.",
    )


def _measurable(spec: StandardSpec) -> PrincipleResult:
    problems = []
    if not _num(spec.target):
        problems.append(
            ("measurable_no_target", "没有数值目标，无法衡量", "No numeric target, so it cannot be measured.")
        )
    if _blank(spec.metric):
        problems.append(("measurable_no_metric", "没有指定度量指标", "No metric is named."))
    if spec.measured_by not in MEASUREMENT_SOURCES:
        problems.append(
            (
                "measurable_no_source",
                "没有有效的测量来源，请选择 KPI、电话回访、抽样对比、问卷调查或反馈记录",
                "No valid measurement source: choose KPI, phone callback, sampling comparison, "
                "questionnaire or feedback record.",
            )
        )
    return _result(
        "measurable",
        problems,
        f"以“{spec.measured_by}”测量数值目标",
        f"A numeric target measured by {spec.measured_by}.",
    )


def _no_history(what_zh: str, what_en: str) -> PrincipleResult:
    return PrincipleResult(
        "feasible",
        False,
        f"没有可回放的历史数据（{what_zh}），无法证明该目标可行：请先积累数据或试行后再提交",
        f"No history to replay the rule on ({what_en}), so the target cannot be shown feasible: "
        "collect data or run a trial first.",
        "feasible_no_history",
    )


def _supported(h: ReplayedHistory, lang: str) -> str:
    """What the replayed history supports: the best share at the proposed limit, and the smallest
    limit that reached the proposed share in some period ("44% within 1 h", "99% within 4.6 h")."""
    if h.limit_minutes is None or h.best() is None:
        return ""
    parts = supported_thresholds(h, lang)
    if lang == "zh":
        return "；历史支持的目标：" + "，或".join(parts)
    return "; the history supports " + ", or ".join(parts)


def _replayed(
    spec: StandardSpec, h: ReplayedHistory, min_periods: int, weak_sd: float, weak_rel: float
) -> PrincipleResult:
    best, median, latest = h.best(), h.median(), h.latest()
    if best is None or median is None or latest is None:
        return _no_history(h.what_zh, h.what_en)
    u, k = h.unit, len(h.periods)

    def one(p: PeriodValue, lang: str) -> str:
        return (
            f"{_fmt(p.value, u)}（n={p.n}，{p.period}）"
            if lang == "zh"
            else f"{_fmt(p.value, u)} (n={p.n}, {p.period})"
        )

    summary_zh = (
        f"回放：{h.what_zh}，共 {k} 期：最好 {one(best, 'zh')}，中位 {one(median, 'zh')}，"
        f"最近 {one(latest, 'zh')}"
    )
    summary_en = (
        f"Replayed on {h.what_en}, {k} periods: best {one(best, 'en')}, median {one(median, 'en')}, "
        f"latest {one(latest, 'en')}"
    )
    target = _fmt(h.target, u)
    if not is_met(best.value, h.target, h.comparator):
        return PrincipleResult(
            "feasible",
            False,
            f"{summary_zh}；目标 {target} 从未达到{_supported(h, 'zh')}。请降低目标或改进流程",
            f"{summary_en}; the target {target} was never reached{_supported(h, 'en')}. "
            "Lower it or change the process.",
            "feasible_unreachable",
        )
    values = [p.value for p in h.periods]
    margins = [margin(v, h.target, h.comparator) for v in values]
    wide = max(weak_sd * float(np.std(values, ddof=1)) if k > 1 else 0.0, weak_rel * abs(h.target))
    met = sum(m >= 0 for m in margins)
    if k >= min_periods and min(margins) > wide:
        return PrincipleResult(
            "feasible",
            False,
            f"{summary_zh}；目标 {target} 过低：每期都以超过 {wide:.3g} 的幅度达标，请提高目标",
            f"{summary_en}; the target {target} is too weak: every period beat it by more than {wide:.3g}. "
            "Raise it.",
            "feasible_too_weak",
        )
    return PrincipleResult(
        "feasible",
        True,
        f"{summary_zh}；{k} 期中 {met} 期达到目标 {target}",
        f"{summary_en}; the target {target} was met in {met} of {k} periods.",
        "feasible_ok",
    )


def _feasible(
    spec: StandardSpec,
    history: Sequence[float] | ReplayedHistory | None,
    min_periods: int,
    recent: int,
    weak_sd: float,
    weak_rel: float,
) -> PrincipleResult:
    if _blank(spec.procedure):
        return PrincipleResult(
            "feasible",
            False,
            "没有记录实现该标准的工作流程，请补充可重复执行的流程",
            "No work procedure that achieves the standard is recorded: add a repeatable process.",
            "feasible_no_procedure",
        )
    if isinstance(history, ReplayedHistory):
        return _replayed(spec, history, min_periods, weak_sd, weak_rel)
    values = [float(v) for v in (history or []) if v is not None and math.isfinite(v)][-recent:]
    if not _num(spec.target) or spec.comparator not in COMPARATORS:
        return PrincipleResult(
            "feasible",
            False,
            "没有数值目标或比较方式，无法检验可行性",
            "Without a numeric target and comparator the target cannot be checked against history.",
            "feasible_no_target",
        )
    if not values:
        return _no_history("没有测量值", "no measured values")
    target = float(spec.target)  # type: ignore[arg-type]
    higher_better = spec.comparator in (">=", ">")
    best = max(values) if higher_better else min(values)
    k, u = len(values), spec.unit
    if not is_met(best, target, spec.comparator):
        return PrincipleResult(
            "feasible",
            False,
            f"最近 {k} 期从未达到目标 {_fmt(target, u)}（最好 {_fmt(best, u)}），请降低目标或改进流程",
            f"Target {_fmt(target, u)} was never reached in the last {k} periods "
            f"(best {_fmt(best, u)}); lower it or change the process.",
            "feasible_unreachable",
        )
    wide = max(weak_sd * float(np.std(values, ddof=1)) if k > 1 else 0.0, weak_rel * abs(target))
    margins = [margin(v, target, spec.comparator) for v in values]
    if k >= min_periods and min(margins) > wide:
        worst = min(values) if higher_better else max(values)
        return PrincipleResult(
            "feasible",
            False,
            f"目标 {_fmt(target, u)} 过低：最近 {k} 期每期都以超过 {wide:.3g} 的幅度达标"
            f"（最小余量 {min(margins):.3g}），请把目标提高到接近 {_fmt(worst, u)}",
            f"Target {_fmt(target, u)} is too weak: every one of the last {k} periods beat it by "
            f"more than {wide:.3g} (smallest margin {min(margins):.3g}); raise it towards "
            f"{_fmt(worst, u)}.",
            "feasible_too_weak",
        )
    return PrincipleResult(
        "feasible",
        True,
        f"最近 {k} 期中有 {sum(m >= 0 for m in margins)} 期达标，目标有挑战但可实现",
        f"Met in {sum(m >= 0 for m in margins)} of the last {k} periods: challenging but reachable.",
        "feasible_ok",
    )


def is_time_based(spec: StandardSpec) -> bool:
    """Time unit, or time words in the metric or statement (see :mod:`scoring.statement_rules`)."""
    return mentions_time(spec.unit, f"{spec.metric} {spec.statement_zh} {spec.statement_en}")


def _timely(spec: StandardSpec) -> PrincipleResult:
    problems = []
    if spec.window not in WINDOWS:
        problems.append(
            (
                "timely_no_window",
                "没有统计周期，请选择日、周、月或季度",
                "No measurement window: choose day, week, month or quarter.",
            )
        )
    if is_time_based(spec) and not (
        spec.time_limit_minutes is not None
        and math.isfinite(spec.time_limit_minutes)
        and spec.time_limit_minutes > 0
    ):
        problems.append(
            (
                "timely_no_time_limit",
                "这是时效类标准，但没有明确的时限，请写明时限（如 30 分钟内响应）",
                "A time-based standard without an explicit time limit: "
                "state it (e.g. respond within 30 minutes).",
            )
        )
    return _result("timely", problems, "统计周期与时限明确", "The window and time limit are explicit.")


def _aligned(spec: StandardSpec) -> PrincipleResult:
    if _blank(spec.customer_need):
        return PrincipleResult(
            "aligned",
            False,
            "没有说明该标准回应的客户需求，请补充",
            "The customer need it answers is not recorded: add it.",
            "aligned_no_need",
        )
    if not spec.need_confirmed_by_customer:
        return PrincipleResult(
            "aligned",
            False,
            "客户需求尚未经客户代表确认，请与客户共同确认",
            "The customer need is not yet confirmed by a customer representative: confirm it "
            "with the customer.",
            "aligned_not_confirmed",
        )
    return PrincipleResult(
        "aligned", True, "回应经客户确认的需求", "Answers a need confirmed by the customer.", "aligned_ok"
    )


def check_principles(
    spec: StandardSpec,
    history: Sequence[float] | ReplayedHistory | None = None,
    *,
    min_periods: int = 4,
    recent_periods: int = 8,
    weak_sd: float = 2.0,
    weak_relative: float = 0.10,
) -> PrincipleReport:
    """Check a standard against the five principles; ``history`` is the proposed rule replayed on
    the history it speaks of (scoring.feasibility.ReplayedHistory), or its measured values per
    period, oldest first (the last ``recent_periods`` are used); none: not shown feasible. See the
    module docstring for the rules; the "too weak" margin is max(weak_sd x SD, weak_relative x |target|).
    Source of the principles: the user-perception system's setup phase (DOMAIN.md).
    """
    results = (
        _explicit(spec),
        _measurable(spec),
        _feasible(spec, history, min_periods, recent_periods, weak_sd, weak_relative),
        _timely(spec),
        _aligned(spec),
    )
    return PrincipleReport(spec.code, results, all(r.passed for r in results))
