"""Issue 19: the internal KPI page reads its summary, trends and breaches from sums computed in the
database and computes one page of the per-region table. Same figures as the row-by-row analysis
(main's kpi_analysis, kept in tests/analysis/h19kpis2_main_kpis.py): values to 1e-12, everything
else exactly, on generated values with gaps, small and large regions, tiers, values without n,
targets or "met", a KPI whose rows carry two comparators, and a percentile KPI; scoped filters too."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import timedelta

import pytest

from perception.analysis.services.filters import AnalysisFilters
from perception.analysis.services.kpis import REGION_PAGE_SIZE, kpi_analysis
from tests.analysis import h19kpis2_main_kpis as main
from tests.analysis.conftest import MONDAY

WEEKS = 6


@pytest.fixture
def generated(db_session):
    from perception.core.models.org import Region
    from perception.kpi.models import KpiDefinition, KpiValue
    from perception.setup.models.catalog import Service, ServiceTier

    rng = random.Random(19)
    regions = [Region(code=f"G{i:02d}", name_zh=f"区{i}", name_en=f"Region {i}") for i in range(7)]
    services = [Service(code=f"S{i}", name_zh=f"服务{i}", name_en=f"Service {i}") for i in range(4)]
    tiers = [ServiceTier(code=f"T{i}", name_zh=f"级{i}", name_en=f"Tier {i}", rank=i) for i in range(2)]
    kpis = [
        KpiDefinition(code=code, name_zh=code, name_en=code, unit="percent", source="tickets")
        for code in ("H_SHARE", "H_TIME", "H_MIXED", "H_VOLUME", "TK_RESPONSE_P90")
    ]
    db_session.add_all([*regions, *services, *tiers, *kpis])
    db_session.flush()
    for d in kpis:
        for s in services:
            for k, r in enumerate(regions):
                if rng.random() < 0.15:
                    continue  # a cell without values
                big = k == 0
                for week in range(WEEKS):
                    if rng.random() < 0.25:
                        continue  # a gap
                    for tier in [None, *tiers] if big or rng.random() < 0.3 else [None]:
                        if tier is not None and rng.random() < 0.3:
                            continue
                        value = rng.uniform(60, 100)
                        comparator = {"H_TIME": "<=", "H_VOLUME": None, "TK_RESPONSE_P90": "<="}.get(
                            d.code, ">="
                        )
                        if d.code == "H_MIXED" and rng.random() < 0.3:
                            comparator = ">"
                        target = (
                            None
                            if comparator is None or rng.random() < 0.1
                            else rng.choice((80.0, 85.0, 90.0))
                        )
                        met = (
                            None
                            if target is None or rng.random() < 0.1
                            else (value >= target if comparator in (">=", ">") else value <= target)
                        )
                        n = rng.choice((None, 0, 1, 7, 250, 3000 if big else 12))
                        monday = MONDAY + timedelta(weeks=week)
                        db_session.add(
                            KpiValue(
                                definition_id=d.id,
                                service_id=s.id,
                                region_id=r.id,
                                tier_id=tier.id if tier is not None else None,
                                tier_key=tier.id if tier is not None else 0,
                                granularity="week",
                                period_start=monday,
                                period_end=monday + timedelta(days=7),
                                value=value,
                                n=n,
                                target=target,
                                comparator=comparator,
                                met=met,
                                provenance="computed",
                            )
                        )
    db_session.flush()
    return {"regions": regions, "services": services, "tiers": tiers}


def _same_float(a, b):
    if a is None or b is None:
        return a is b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == pytest.approx(b, rel=1e-12, abs=1e-12)


def _same_attainment(new, old):
    assert (new.comparator, new.n_measured, new.n_met) == (old.comparator, old.n_measured, old.n_met)
    for field in ("share_met", "mean_margin", "worst_margin", "best_margin"):
        assert _same_float(getattr(new, field), getattr(old, field)), field
    assert len(new.periods) == len(old.periods)
    for p, q in zip(new.periods, old.periods, strict=True):
        assert (p.period, p.met) == (q.period, q.met)
        for field in ("value", "target", "margin", "relative_margin"):
            assert _same_float(getattr(p, field), getattr(q, field)), field


def _same_rows(new, old):
    assert len(new) == len(old)
    for a, b in zip(new, old, strict=True):
        assert vars(replace(a, attainment=None)) == vars(replace(b, attainment=None))
        _same_attainment(a.attainment, b.attainment)


def _filters(generated, which):
    base = AnalysisFilters(start=MONDAY, end=MONDAY + timedelta(weeks=WEEKS))
    regions, services, tiers = generated["regions"], generated["services"], generated["tiers"]
    return {
        "all": base,
        "scoped": replace(base, region_ids=frozenset({regions[0].id, regions[3].id})),
        "one_region": replace(base, region_ids=frozenset({regions[2].id}), region_id=regions[2].id),
        "service": replace(base, service_id=services[1].id),
        "tier": replace(base, tier_id=tiers[0].id),
        "shorter": replace(base, start=MONDAY + timedelta(weeks=1), end=MONDAY + timedelta(weeks=4)),
    }[which]


@pytest.mark.parametrize("which", ["all", "scoped", "one_region", "service", "tier", "shorter"])
def test_sums_give_the_rows_figures(db_session, generated, which):
    filters = _filters(generated, which)
    old = main.kpi_analysis(db_session, filters)
    new = kpi_analysis(db_session, filters)
    assert old.summary, "the dataset must give a summary"
    _same_rows(new.summary, old.summary)
    _same_rows(new.by_region, old.by_region)
    assert (
        new.region_total == len(old.by_region)
        and new.region_pages == 1 + (len(old.by_region) - 1) // REGION_PAGE_SIZE
    )
    assert [vars(b) for b in new.breaches] == [vars(b) for b in old.breaches]
    assert new.breach_count == old.breach_count
    assert len(new.trends) == len(old.trends)
    for a, b in zip(new.trends, old.trends, strict=True):
        assert vars(replace(a, values=())) == vars(replace(b, values=()))
        assert all(_same_float(x, y) for x, y in zip(a.values, b.values, strict=True))
    if filters.region_ids is not None:
        assert {a.region_id for a in new.by_region} <= filters.region_ids
        assert {b.region_id for b in new.breaches} <= filters.region_ids


def test_pages_of_the_region_table_add_up_to_the_whole(db_session, generated):
    filters = _filters(generated, "all")
    old = main.kpi_analysis(db_session, filters)
    pages = kpi_analysis(db_session, filters, region_page=1).region_pages
    assert pages > 1
    rows = []
    for page in range(1, pages + 1):
        view = kpi_analysis(db_session, filters, region_page=page)
        assert view.region_page == page and len(view.by_region) <= REGION_PAGE_SIZE
        rows.extend(view.by_region)
    _same_rows(tuple(rows), old.by_region)
    # Past the end: the last page; before the start: the first.
    assert kpi_analysis(db_session, filters, region_page=pages + 5).region_page == pages
    first = kpi_analysis(db_session, filters, region_page=1).by_region
    _same_rows(kpi_analysis(db_session, filters, region_page=-3).by_region, first)


def test_the_page_pages_the_region_table_and_keeps_the_scope(login_as, db_session, generated):
    regions = generated["regions"]
    period = "from=2026-W10&to=2026-W15"
    manager = login_as("manager")
    html = manager.get(f"/analysis/kpis?{period}").get_data(as_text=True)
    assert "page=2" in html and "#by-region" in html  # the pager, keeping the filters
    assert "<td>G00</td>" in html and "from=2026-03-02" in html and "Computed at" in html
    second = manager.get(f"/analysis/kpis?{period}&page=2")
    assert second.status_code == 200 and "Page 2 of" in second.get_data(as_text=True)
    assert manager.get(f"/analysis/kpis?{period}&page=zz").status_code == 200
    bound = login_as("analyst", username="analyst_g00", region="R1")
    bound.user.region_id = regions[0].id
    db_session.flush()
    html = bound.get(f"/analysis/kpis?{period}").get_data(as_text=True)
    assert "<td>G00</td>" in html and not any(f"<td>{r.code}</td>" in html for r in regions[1:])


def test_the_page_keeps_its_sums_while_the_data_are_unchanged(db_session, generated, monkeypatch):
    from datetime import datetime

    import perception.analysis.services.kpis as kpis

    kpis.forget_kept()
    version = {"value": (5, 0, 0)}
    sums = []
    real = kpis._week_sums
    monkeypatch.setattr(kpis, "read_version", lambda session, name: version["value"])
    monkeypatch.setattr(kpis, "_week_sums", lambda *a: sums.append(1) or real(*a))
    now = datetime(2026, 4, 1, 9, 0)
    filters = _filters(generated, "all")
    first = kpi_analysis(db_session, filters, region_page=1, keep=True, now=now)
    assert first.computed_at == now and len(sums) == 1
    # Another page of the table, a minute later: the kept sums, the same summary, its own rows.
    second = kpi_analysis(db_session, filters, region_page=2, keep=True, now=now + timedelta(minutes=1))
    assert len(sums) == 1 and second.computed_at == now and second.summary is first.summary
    _same_rows(second.by_region, kpi_analysis(db_session, filters, region_page=2).by_region)  # not kept
    assert len(sums) == 2
    # Another scope is another entry, and sees only its regions.
    scoped = kpi_analysis(db_session, _filters(generated, "scoped"), region_page=1, keep=True, now=now)
    assert (
        len(sums) == 3 and {b.region_id for b in scoped.breaches} <= _filters(generated, "scoped").region_ids
    )
    # A committed write to its data: computed again; its age alone: not (h19first: no age limit,
    # tests/analysis/test_h19first_kpis_kept.py); uncommitted writes: never kept.
    version["value"] = (6, 0, 0)
    kpi_analysis(db_session, filters, region_page=1, keep=True, now=now + timedelta(minutes=2))
    assert len(sums) == 4
    later = now + timedelta(minutes=2, hours=3)
    kept = kpi_analysis(db_session, filters, keep=True, region_page=1, now=later)
    assert kept.computed_at == now + timedelta(minutes=2)
    version["value"] = (6, 99, 1)
    kpi_analysis(db_session, filters, region_page=1, keep=True, now=later)
    kpi_analysis(db_session, filters, region_page=1, keep=True, now=later)
    assert len(sums) == 6
    kpis.forget_kept()
