"""The analysis pages' tables as exportable Tables (analysis_exports renders them to CSV/.xlsx).

One builder per page table; the names are the export names used in URLs
(``/analysis/export/<name>.<csv|xlsx>``). Every builder takes ``use_rollup`` (the ANALYSIS_ROLLUP
setting, see services.facts.aggregate); those whose page reads no experience facts ignore it.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.orm import Session

from perception.analysis.services.demand import demand
from perception.analysis.services.exports import Table, measure_cells, table_from_records
from perception.analysis.services.filters import AnalysisFilters
from perception.analysis.services.kpi_experience import CellView, kpi_vs_experience
from perception.analysis.services.kpis import kpi_analysis
from perception.analysis.services.overview import overview

MEASURE_COLUMNS = (
    ("csat", "CSAT(%)", "CSAT (%)"),
    ("csat_low", "CSAT 下限", "CSAT low"),
    ("csat_high", "CSAT 上限", "CSAT high"),
    ("csat_n", "CSAT 样本数", "CSAT n"),
    ("csat_low_sample", "CSAT 样本不足", "CSAT low sample"),
    ("nps", "NPS", "NPS"),
    ("nps_low", "NPS 下限", "NPS low"),
    ("nps_high", "NPS 上限", "NPS high"),
    ("nps_n", "NPS 样本数", "NPS n"),
    ("index", "感知指数", "Perception index"),
    ("index_low", "指数下限", "Index low"),
    ("index_high", "指数上限", "Index high"),
    ("index_n", "指数样本数", "Index n"),
)


def overview_table(session: Session, filters: AnalysisFilters, *, use_rollup: bool = True) -> Table:
    view = overview(session, filters, use_rollup=use_rollup)
    records = []
    for row in (view.total, *view.regions, *view.services):
        records.append(
            {
                "group": row.group,
                "code": row.code,
                "name_zh": row.name_zh,
                "name_en": row.name_en,
                **measure_cells("csat", row.csat, 100.0),
                **measure_cells("nps", row.nps),
                **measure_cells("index", row.index),
            }
        )
    spec = (
        ("group", "分组", "Group"),
        ("code", "代码", "Code"),
        ("name_zh", "名称", "Name (zh)"),
        ("name_en", "英文名称", "Name (en)"),
        *MEASURE_COLUMNS,
    )
    return table_from_records("overview", spec, records)


def _cell_record(c: CellView) -> dict[str, Any]:
    cmp = c.comparison
    return {
        "rank": cmp.watermelon_rank,
        "kpi": c.kpi_code,
        "service": c.service_code,
        "region": c.region_code,
        "quadrant": cmp.quadrant,
        "kpi_value": cmp.kpi_value,
        "kpi_target": cmp.kpi_target,
        "kpi_margin": cmp.kpi_margin,
        "tier_breaches": "; ".join(f"{g.label} {g.value:.4g} / {g.target:.4g}" for g in cmp.kpi_breaches),
        "experience_standard": c.experience_standard,
        "experience_metric": c.experience_metric,
        "experience": cmp.experience_estimate,
        "experience_low": cmp.experience_ci_low,
        "experience_high": cmp.experience_ci_high,
        "experience_target": cmp.experience_target,
        "gap": cmp.experience_gap,
        "p_value": cmp.p_value,
        "n": cmp.n,
        "evidenced": cmp.evidenced,
        "message": cmp.message.en,
        "message_zh": cmp.message.zh,
    }


CELL_COLUMNS = (
    ("rank", "西瓜排名", "Watermelon rank"),
    ("kpi", "KPI", "KPI"),
    ("service", "服务", "Service"),
    ("region", "地区", "Region"),
    ("quadrant", "象限", "Quadrant"),
    ("kpi_value", "KPI 值", "KPI value"),
    ("kpi_target", "KPI 目标", "KPI target"),
    ("kpi_margin", "KPI 余量", "KPI margin"),
    (
        "tier_breaches",
        "未达本等级目标的等级（值 / 目标）",
        "Tiers that missed their own target (value / target)",
    ),
    ("experience_standard", "体验标准", "Experience standard"),
    ("experience_metric", "体验指标", "Experience metric"),
    ("experience", "体验值", "Experience"),
    ("experience_low", "体验下限", "Experience low"),
    ("experience_high", "体验上限", "Experience high"),
    ("experience_target", "体验目标", "Experience target"),
    ("gap", "体验差距", "Experience gap"),
    ("p_value", "p 值", "p-value"),
    ("n", "样本数", "n"),
    ("evidenced", "证据充分", "Evidenced"),
    ("message_zh", "说明", "Message (zh)"),
    ("message", "Message", "Message"),
)


MELON_COLUMNS = (
    ("rank", "排名", "Rank"),
    ("service", "服务", "Service"),
    ("region", "地区", "Region"),
    ("kpis", "达标的 KPI", "KPIs met"),
    ("evidenced", "证据充分", "Evidenced"),
    ("reason", "候选原因", "Why a candidate"),
    ("experience", "体验值", "Experience"),
    ("experience_low", "体验下限", "Experience low"),
    ("experience_high", "体验上限", "Experience high"),
    ("experience_target", "体验目标", "Experience target"),
    ("n", "样本数", "n"),
    ("q_value", "q 值（BH 校正）", "q-value (BH)"),
)


def watermelon_table(session: Session, filters: AnalysisFilters, *, use_rollup: bool = True) -> Table:
    """One row per service x region cell with its KPIs (kpi_experience.watermelon_cells, as the page)."""
    from perception.analysis.services.kpi_experience import watermelon_cells

    view = kpi_vs_experience(session, filters, use_rollup=use_rollup)
    records = []
    for rank, cell in enumerate(watermelon_cells(view).all, start=1):
        cmp = cell.lead.comparison
        records.append(
            {
                "rank": rank,
                "service": cell.service_code,
                "region": cell.region_code,
                "kpis": "; ".join(f"{k.kpi_code} {k.kpi_name_en}" for k in cell.kpis),
                "evidenced": cell.evidenced,
                "reason": cell.reason,
                "experience": cmp.experience_estimate,
                "experience_low": cmp.experience_ci_low,
                "experience_high": cmp.experience_ci_high,
                "experience_target": cmp.experience_target,
                "n": cmp.n,
                "q_value": cmp.q_value,
            }
        )
    return table_from_records("watermelons", MELON_COLUMNS, records)


def kpi_experience_table(session: Session, filters: AnalysisFilters, *, use_rollup: bool = True) -> Table:
    view = kpi_vs_experience(session, filters, use_rollup=use_rollup)
    return table_from_records("kpi_vs_experience", CELL_COLUMNS, [_cell_record(c) for c in view.cells])


def kpi_table(session: Session, filters: AnalysisFilters, *, use_rollup: bool = True) -> Table:
    view = kpi_analysis(session, filters)
    records = [
        {
            "kpi": a.kpi_code,
            "service": a.service_code,
            "region": a.region_code or "*",
            "measured": a.attainment.n_measured,
            "met": a.attainment.n_met,
            "share_met": a.attainment.share_met,
            "mean_margin": a.attainment.mean_margin,
            "worst_margin": a.attainment.worst_margin,
        }
        for a in (*view.summary, *view.by_region)
    ]
    spec = (
        ("kpi", "KPI", "KPI"),
        ("service", "服务", "Service"),
        ("region", "地区", "Region"),
        ("measured", "已测周数", "Weeks measured"),
        ("met", "达标周数", "Weeks met"),
        ("share_met", "达标比例", "Share met"),
        ("mean_margin", "平均余量", "Mean margin"),
        ("worst_margin", "最差余量", "Worst margin"),
    )
    return table_from_records("kpi_attainment", spec, records)


def themes_table(session: Session, filters: AnalysisFilters, *, use_rollup: bool = True) -> Table:
    view = demand(session, filters)
    common = {n.theme_key: n for n in view.needs.common}
    emerging = {n.theme_key for n in view.needs.emerging}
    records = [
        {
            "key": t.key,
            "name": t.label,
            "terms": " ".join(t.top_terms),
            "entries": t.n_entries,
            "customers": common[t.key].n_customers if t.key in common else "",
            "regions": common[t.key].n_regions if t.key in common else "",
            "common": t.key in common,
            "emerging": t.key in emerging,
            "example": t.examples[0][1] if t.examples else "",
        }
        for t in view.themes
    ]
    spec = (
        ("key", "主题", "Theme"),
        ("name", "名称", "Name"),
        ("terms", "关键词", "Top terms"),
        ("entries", "条数", "Entries"),
        ("customers", "客户数", "Customers"),
        ("regions", "地区数", "Regions"),
        ("common", "共性需求", "Common need"),
        ("emerging", "新兴需求", "Emerging need"),
        ("example", "示例", "Example"),
    )
    return table_from_records("themes", spec, records)


class TableBuilder(Protocol):
    def __call__(self, session: Session, filters: AnalysisFilters, *, use_rollup: bool = True) -> Table: ...


BUILDERS: dict[str, TableBuilder] = {
    "overview": overview_table,
    "kpi_vs_experience": kpi_experience_table,
    "watermelons": watermelon_table,
    "kpi_attainment": kpi_table,
    "themes": themes_table,
}
