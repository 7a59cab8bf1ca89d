"""Review section 3, KPI versus experience: the quadrant matrix and the watermelons with their
evidence over the review period (perception.analysis.services.kpi_experience.kpi_vs_experience),
and what changed since the previous review:

- cells whose quadrant changed (the previous review's frozen facts when it is signed, else the
  previous period computed now);
- CSAT per region now versus the previous period (perception.analysis.services.overview for
  the counts; ``scoring.compare_shares``: pooled two-proportion z test, Newcombe interval).

Quadrant chart axes are relative so KPIs in different units share one chart:
x = KPI margin / |KPI target|, y = experience gap / |experience target| (positive = better).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from perception.review.services.blocks import chart, column, paragraph, section, t, table
from perception.review.services.sections import SECTION_TITLES, SectionContext, monday_on_or_after
from scoring import QUADRANTS, compare_shares, wilson_interval


def _filters(start: date, end: date) -> Any:
    from perception.analysis.services.filters import AnalysisFilters

    return AnalysisFilters(start=monday_on_or_after(start), end=monday_on_or_after(end))


def previous_bounds(ctx: SectionContext) -> tuple[date, date]:
    if ctx.previous is not None:
        return ctx.previous.period_start, ctx.previous.period_end
    months = (ctx.end.year - ctx.start.year) * 12 + ctx.end.month - ctx.start.month
    index = ctx.start.year * 12 + ctx.start.month - 1 - months
    return date(index // 12, index % 12 + 1, 1), ctx.start


def _rel(value: float, target: float) -> float:
    return value / abs(target) if target else value


def _quadrants(ctx: SectionContext, start: date, end: date) -> tuple[Any, dict[str, str]]:
    from perception.analysis.services.kpi_experience import kpi_vs_experience

    view = kpi_vs_experience(ctx.session, _filters(start, end), over_time=False)
    # each cell's quadrant from the verdicts' arrays (reading view.cells builds every cell)
    return view, dict(zip(view.cells.keys, view.cells.classified.quadrant.tolist(), strict=True))


def _region_csat(ctx: SectionContext, start: date, end: date) -> dict[str, list[int]]:
    """Region code -> [top-2-box CSAT answers, CSAT answers] in the period, by region code: the
    overview's region rows, from one GROUP BY of the CSAT answers per region (the whole overview,
    with its index, drift and change look, was computed for these two counts: a minute at
    national scale, twice)."""
    from perception.analysis.services.facts import aggregate, csat_measure, rollup
    from perception.analysis.services.names import load_names

    names = load_names(ctx.session, customers=False)
    table = aggregate(ctx.session, _filters(start, end), kinds=("csat",), by=("region",))
    rows = []
    for region_id, parts in rollup(table, ("region",)).items():
        measure = csat_measure(parts, (region_id,))
        if measure is not None and measure.n:
            code = names.region(int(region_id)).code  # type: ignore[call-overload]
            rows.append((code, [measure.successes or 0, measure.n]))
    return dict(sorted(rows, key=lambda row: row[0]))


def _cell_label(c: Any) -> dict[str, str]:
    return t(f"{c.service_name_zh} · {c.region_name_zh}", f"{c.service_name_en} · {c.region_name_en}")


def _watermelons(view: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One row per region x service cell with its KPIs, the definition the analysis page uses
    (perception.analysis.services.kpi_experience.watermelon_cells): evidenced cells first."""
    from perception.analysis.services.kpi_experience import watermelon_cells

    rows, facts = [], []
    for rank, cell in enumerate(watermelon_cells(view).all, start=1):
        cmp = cell.lead.comparison
        key = f"watermelon:{cell.key}"
        kpi_zh = "；".join(
            f"{k.kpi_name_zh} {k.comparison.kpi_value:.3g} / {k.comparison.kpi_target:.3g}" for k in cell.kpis
        )
        kpi_en = "; ".join(
            f"{k.kpi_name_en} {k.comparison.kpi_value:.3g} / {k.comparison.kpi_target:.3g}" for k in cell.kpis
        )
        rows.append(
            {
                "_key": key,
                "rank": rank,
                "service": t(cell.service_name_zh, cell.service_name_en),
                "region": t(cell.region_name_zh, cell.region_name_en),
                "kpi": t(kpi_zh, kpi_en),
                "experience": f"{cmp.experience_estimate:.3g} "
                f"[{cmp.experience_ci_low:.3g}, {cmp.experience_ci_high:.3g}]",
                "target": cmp.experience_target,
                "gap": cmp.experience_gap,
                "n": cmp.n,
                "evidence": t(cmp.message.zh, cmp.message.en),
            }
        )
        facts.append(
            {
                "key": key,
                "service": t(cell.service_name_zh, cell.service_name_en),
                "region": t(cell.region_name_zh, cell.region_name_en),
                "kpi": t(
                    "、".join(k.kpi_name_zh for k in cell.kpis), ", ".join(k.kpi_name_en for k in cell.kpis)
                ),
                "gap": cmp.experience_gap,
                "relative_gap": _rel(cmp.experience_gap, cmp.experience_target),
                "estimate": cmp.experience_estimate,
                "target": cmp.experience_target,
                "share": cmp.experience_kind == "share",
                "evidenced": cell.evidenced,
                "n": cmp.n,
                "p_value": cmp.p_value,
                "rank": rank,
            }
        )
    return rows, facts


def _changes(ctx: SectionContext, view: Any, quadrants: dict[str, str]) -> list[dict[str, Any]]:
    before = ctx.previous_facts("kpi_experience")
    previous = (before or {}).get("quadrants")
    if previous is None:
        _, previous = _quadrants(ctx, *previous_bounds(ctx))
    labels = {c.key: _cell_label(c) for c in view.cells}
    rows = []
    for key in sorted(set(quadrants) | set(previous)):
        old, new = previous.get(key), quadrants.get(key)
        if old is None or new is None or old == new:
            continue  # a cell measured in one period only has no quadrant to change from or to
        rows.append(
            {
                "_key": f"quadrant_change:{key}",
                "cell": labels.get(key, key),
                "before": t(*QUADRANTS[old]),
                "after": t(*QUADRANTS[new]),
            }
        )
    return rows


def _csat_changes(ctx: SectionContext, current: dict[str, list[int]]) -> list[dict[str, Any]]:
    before = ctx.previous_facts("kpi_experience")
    previous = (before or {}).get("csat_by_region")
    if previous is None:
        previous = _region_csat(ctx, *previous_bounds(ctx))
    regions = {v["code"]: v["name"] for v in ctx.names("region").values()}
    rows = []
    for code in sorted(set(current) & set(previous)):
        (sa, na), (sb, nb) = previous[code], current[code]
        if not na or not nb:
            continue
        change = compare_shares(sa, na, sb, nb, measure="csat")
        rows.append(
            {
                "_key": f"csat_change:{code}",
                "region": regions.get(code, t(code, code)),
                "before": change.estimate_a,
                "after": change.estimate_b,
                "difference": change.difference,
                "ci_low": change.ci_low,
                "ci_high": change.ci_high,
                "p_value": change.p_value,
                "significant": change.significant,
                "n_before": na,
                "n_after": nb,
            }
        )
    return sorted(rows, key=lambda r: r["difference"])


def build(ctx: SectionContext) -> dict[str, Any]:
    view, quadrants = _quadrants(ctx, ctx.start, ctx.end)
    counts = dict(view.quadrant_counts)
    melon_rows, melon_facts = _watermelons(view)
    csat = _region_csat(ctx, ctx.start, ctx.end)
    csat_rows = _csat_changes(ctx, csat)
    drops = [r for r in csat_rows if r["significant"] and r["difference"] < 0]
    evidenced = sum(1 for f in melon_facts if f["evidenced"])
    blocks: list[dict[str, Any]] = [
        paragraph(
            t(
                f"本期比较了 {len(view.cells)} 个“KPI × 服务 × 区域”组合：证据充分的西瓜效应单元"
                f"（服务 × 区域）{evidenced} 个，另有候选 {len(melon_facts) - evidenced} 个尚无证据；"
                f"KPI 与体验均达标 {counts.get('both_met', 0)} 个组合。",
                f"{len(view.cells)} KPI × service × region combinations were compared: "
                f"{evidenced} service × region cells are evidenced watermelons, "
                f"{len(melon_facts) - evidenced} more are candidates not yet evidenced; "
                f"{counts.get('both_met', 0)} combinations have KPI and experience both met.",
            )
        ),
        table(
            "quadrant_matrix",
            t("四象限矩阵", "Quadrant matrix"),
            [column("quadrant", t("象限", "Quadrant")), column("cells", t("单元数", "Cells"), "int")],
            [{"quadrant": t(*QUADRANTS[q]), "cells": counts.get(q, 0)} for q in QUADRANTS],
            weights=[4, 1],
        ),
    ]
    if view.cells:
        # Many cells: name only the evidenced watermelons, or the labels hide each other.
        crowded = len(view.cells) > 24
        points = [
            {
                "label": f"{c.service_code}·{c.region_code}"
                if not crowded or (c.comparison.quadrant == "watermelon" and c.comparison.evidenced)
                else "",
                "x": _rel(c.comparison.kpi_margin, c.comparison.kpi_target),
                "y": _rel(c.comparison.experience_gap, c.comparison.experience_target),
            }
            for c in view.cells
        ]
        blocks.append(
            chart(
                "quadrant_chart",
                "quadrant",
                t("KPI 与用户体验四象限", "KPI versus experience quadrants"),
                {"points": points},
            )
        )
    blocks.append(
        table(
            "watermelons",
            t(
                "西瓜效应：KPI 达标但体验未达标（证据充分者在前）",
                "Watermelons: KPI met, experience missed (evidenced first)",
            ),
            [
                column("rank", t("排名", "Rank"), "int"),
                column("service", t("服务", "Service")),
                column("region", t("区域", "Region")),
                column("kpi", t("KPI 实际 / 目标", "KPI value / target")),
                column("experience", t("体验 [95% 区间]", "Experience [95% CI]")),
                column("target", t("体验目标", "Target"), "num2"),
                column("gap", t("差距", "Gap"), "num2"),
                column("n", t("样本", "n"), "int"),
                column("evidence", t("证据", "Evidence")),
            ],
            melon_rows,
            empty=t("本期没有西瓜效应", "No watermelon in this period"),
            weights=[0.6, 1.3, 1, 1.6, 1.5, 0.8, 0.8, 0.6, 3.2],
        )
    )
    if csat:
        groups = []
        for code, (successes, n) in sorted(csat.items()):
            low, high = wilson_interval([successes], [n])
            name = next((v["name"] for v in ctx.names("region").values() if v["code"] == code), t(code, code))
            groups.append(
                {"label": name, "value": successes / n, "low": float(low[0]), "high": float(high[0]), "n": n}
            )
        blocks.append(
            chart(
                "csat_chart",
                "interval_bar",
                t("各区域满意度 CSAT（95% 区间）", "CSAT per region (95% interval)"),
                {"groups": groups, "y_label": t("CSAT", "CSAT")},
            )
        )
    blocks.append(
        table(
            "quadrant_changes",
            t("与上期相比象限发生变化的单元", "Cells whose quadrant changed since the previous period"),
            [
                column("cell", t("服务 · 区域", "Service · region")),
                column("before", t("上期", "Before")),
                column("after", t("本期", "Now")),
            ],
            _changes(ctx, view, quadrants),
            empty=t("没有象限变化", "No quadrant changed"),
        )
    )
    blocks.append(
        table(
            "csat_changes",
            t(
                "各区域 CSAT 与上期比较（双比例 z 检验）",
                "CSAT per region versus the previous period (two-proportion z test)",
            ),
            [
                column("region", t("区域", "Region")),
                column("before", t("上期", "Before"), "pct"),
                column("after", t("本期", "Now"), "pct"),
                column("difference", t("变化", "Change"), "pp"),
                column("ci_low", t("95% 下限", "95% low"), "pp"),
                column("ci_high", t("95% 上限", "95% high"), "pp"),
                column("p_value", t("p 值", "p"), "num2"),
                column("significant", t("显著", "Significant"), "text"),
            ],
            csat_rows,
            empty=t("没有可比较的上期数据", "No previous-period data to compare with"),
        )
    )
    facts = {
        "watermelons": melon_facts,
        "quadrants": quadrants,
        "quadrant_counts": counts,
        "csat_by_region": csat,
        "drops": [
            {
                "key": r["_key"],
                "region": r["region"],
                "before": r["before"],
                "after": r["after"],
                "difference": r["difference"],
                "p_value": r["p_value"],
            }
            for r in drops
        ],
    }
    return section("kpi_experience", SECTION_TITLES["kpi_experience"], blocks, facts)
