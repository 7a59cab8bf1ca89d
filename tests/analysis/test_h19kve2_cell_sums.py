"""Issue 19, KPI versus experience at national scale: the page reads the KPI side summed per cell and
tier by the database (kpi_cell_sums) and the experience side per cell over the period, not every
week's rows; only the top watermelons' weeks (their lead and lag) are read week by week.

The figures must be those of the weekly rows (the n-weighted mean, the tickets, the weeks with a
value, the strictest target of the latest week, per tier the same against its own latest target),
on a generated dataset with gaps (missing weeks, a tier that stops, weeks without tickets), small
and large regions, several tiers with their own targets, and a region scope.
"""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest

from perception.analysis.services import kpi_experience as ke
from perception.analysis.services.filters import parse_filters
from perception.analysis.services.kpi_links import kpi_rows, pooled_target
from tests.analysis.conftest import MONDAY

WEEKS = 10
PERIOD = {"from": "2026-W10", "to": "2026-W19"}


def _close(a: object, b: object) -> bool:
    """Equal, floats to 1e-12 (relative), recursively through lists, tuples and dicts."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == pytest.approx(b, rel=1e-12, abs=1e-12)
    return a == b


@pytest.fixture
def national(db_session, org, catalog, observe, link_kpi):
    """Three regions (R1 large, R2 small, R3 with gaps), two services, two KPIs each, cells with
    one tier, with all tiers (no tier) and with Gold and Silver that have their own targets."""
    from perception.core.models.org import Region
    from perception.kpi.models import KpiValue
    from perception.setup.models.catalog import ServiceTier

    silver = ServiceTier(code="SILVER", name_zh="银牌", name_en="Silver", rank=2)
    r3 = Region(code="R3", name_zh="广东", name_en="Guangdong")
    db_session.add_all([silver, r3])
    db_session.flush()
    regions = {"R1": org["R1"]["region"], "R2": org["R2"]["region"], "R3": r3}
    desk, net, gold = catalog["DESK"], catalog["NET"], catalog["GOLD"]
    kpis = [
        (desk, ke_link(link_kpi, desk, "RESP", 0.95, "csat_share", 0.85)),
        (desk, ke_link(link_kpi, desk, "FIX", 0.90, "csat_mean", 4.0)),
        (net, ke_link(link_kpi, net, "NETR", 0.9, "nps", 20.0)),
        (net, ke_link(link_kpi, net, "NETS", 0.8, "dimension_rating_mean", 3.8, dimension="response_speed")),
    ]
    rng = random.Random(19)
    size = {"R1": 400, "R2": 12, "R3": 60}
    for (service, definition), (code, region) in ((k, r) for k in kpis for r in regions.items()):
        tiered = (service.code, code) in {("DESK", "R1"), ("NET", "R3"), ("DESK", "R3")}
        tiers = [(gold, 0.97), (silver, 0.92)] if tiered else [(None, None)]
        for tier, tier_target in tiers:
            for week in range(WEEKS):
                if code == "R3" and week in (2, 3, 7):
                    continue  # gaps
                if tier is silver and code == "R1" and week >= 6:
                    continue  # a tier that stops: the latest week has Gold only
                n: int | None = rng.randint(1, size[code])
                if week == 4 and code == "R3":
                    n = None  # a week without its tickets: no interval for the cell
                if week == 5 and code == "R2":
                    n = 0  # weighted 1, as a week without tickets
                target = tier_target if tier_target is not None else (0.9 if week < 8 else 0.93)
                value = rng.uniform(0.8 if code == "R1" else 0.9, 1.0)
                monday = MONDAY + timedelta(weeks=week)
                db_session.add(
                    KpiValue(
                        definition_id=definition.id, service_id=service.id, region_id=region.id,
                        tier_id=None if tier is None else tier.id, tier_key=0 if tier is None else tier.id,
                        granularity="week", period_start=monday, period_end=monday + timedelta(days=7),
                        value=value, n=n, target=target, comparator=">=", met=value >= target,
                        provenance="computed",
                    )
                )  # fmt: skip
    db_session.flush()
    for code, region in regions.items():
        for week in range(WEEKS):
            if code == "R3" and week in (3, 4):
                continue
            k = size[code] // 4 + 3
            good = code == "R1"  # R1's users are content; R2 and R3's not, whatever their KPIs
            csat = [4, 5, 5, 5, 5, 5, 3] if good else [2, 3, 4, 5, 5]
            nps = [8, 9, 10, 10, 9, 3] if good else list(range(11))
            rating = [4, 5, 5, 3] if good else [1, 2, 3, 4, 5]
            observe(region, desk, "csat", [rng.choice(csat) for _ in range(k)], week=week)
            observe(region, net, "nps", [rng.choice(nps) for _ in range(k)], week=week, scale=(0, 10))
            ratings = [rng.choice(rating) for _ in range(k)]
            observe(region, net, "rating", ratings, week=week, dimension="response_speed")
    return regions


def ke_link(link_kpi, service, code, target, metric, exp_target, **kw):
    return link_kpi(service, code, target, metric, exp_target, **kw)


def _reference(rows):
    """The cell's figures straight from its weekly rows, as main computed them."""
    weights = [float(r.n) if r.n else 1.0 for r in rows]
    value = math.fsum(w * r.value for w, r in zip(weights, rows, strict=True)) / math.fsum(weights)
    tickets = sum(int(r.n) for r in rows if r.n) if all(r.n for r in rows) else None
    latest = max(r.period for r in rows)
    return value, tickets, len({r.period for r in rows}), pooled_target(r for r in rows if r.period == latest)


@pytest.mark.parametrize("listed", [200, 0])
@pytest.mark.parametrize("scoped", [False, True])
def test_cell_sums_equal_the_weekly_rows(db_session, national, scoped, listed, monkeypatch):
    # Tiered cells with gaps have their weeks counted by a second query, listing them or not.
    monkeypatch.setattr(ke, "BROKEN_CELLS_LISTED", listed)
    scope = frozenset({national["R3"].id, national["R2"].id}) if scoped else None
    filters = parse_filters(db_session, PERIOD, scope, today=MONDAY)
    rows = kpi_rows(db_session, filters)
    assert rows
    grouped: dict = {}
    for r in rows:
        grouped.setdefault((r.definition_id, r.service_id, r.region_id), []).append(r)
    sums = ke.kpi_cell_sums(db_session, filters, {r.definition_id for r in rows})
    assert set(sums) == set(grouped)
    assert any(len(c.tiers) > 1 for c in sums.values())
    for key, cell_rows in grouped.items():
        value, tickets, weeks, (target, comparator) = _reference(cell_rows)
        got = sums[key]
        assert _close(got.value, value) and got.tickets == tickets and got.weeks == weeks, key
        assert got.latest_target() == (target, comparator), key
        expected = ke.cell_sums_from_rows(cell_rows)
        assert len(got.tiers) == len(expected.tiers)
        for a, b in zip(got.tiers, expected.tiers, strict=True):
            assert (a.tier_id, a.tickets, a.rows, a.first, a.last, a.target, a.comparator) == (
                b.tier_id, b.tickets, b.rows, b.first, b.last, b.target, b.comparator,
            )  # fmt: skip
            assert _close(a.value, b.value) and _close(a.weights, b.weights)
    if scoped:
        assert {k[2] for k in sums} <= scope


def _fields(view):
    out = {}
    for c in view.cells:
        d = c.comparison.to_dict()
        out[c.key] = (c.weeks_with_kpi, c.experience_basis, c.tier_names, d)
    return out


@pytest.mark.parametrize("scoped", [False, True])
def test_page_path_gives_the_figures_of_the_weekly_path(db_session, national, scoped):
    scope = frozenset({national["R1"].id, national["R3"].id}) if scoped else None
    filters = parse_filters(db_session, PERIOD, scope, today=MONDAY)
    weekly = ke.kpi_vs_experience(db_session, filters, over_time=True)
    page = ke.kpi_vs_experience(db_session, filters, over_time=False)
    a, b = _fields(weekly), _fields(page)
    assert a.keys() == b.keys() and a
    for key in a:
        assert a[key][:3] == b[key][:3], key
        for field, value in a[key][3].items():
            assert _close(value, b[key][3][field]), (key, field, value, b[key][3][field])
    assert [w.key for w in weekly.watermelons] == [w.key for w in page.watermelons]
    assert weekly.quadrant_counts == page.quadrant_counts
    assert weekly.unmatched == page.unmatched
    assert [k for k, _ in weekly.lead_lag] == [k for k, _ in page.lead_lag]
    for (_, x), (_, y) in zip(weekly.lead_lag, page.lead_lag, strict=True):
        assert x == y
    if scoped:
        assert {c.region_id for c in page.cells} <= scope


def test_page_path_reads_weekly_rows_of_the_top_watermelons_only(db_session, national, monkeypatch):
    read: list[int] = []

    def counting(*args, **kwargs):
        rows = kpi_rows(*args, **kwargs)
        read.append(len(rows))
        return rows

    monkeypatch.setattr(ke, "kpi_rows", counting)
    filters = parse_filters(db_session, PERIOD, None, today=MONDAY)
    view = ke.kpi_vs_experience(db_session, filters, over_time=False)
    assert view.cells
    leads = {(w.service_id, w.region_id, w.kpi_code) for w in view.watermelons[: ke.LEAD_LAG_CELLS]}
    # At most the weeks x tiers of the lead cells, not the period's every row.
    assert sum(read) <= len(leads) * WEEKS * 2
    assert sum(read) < len(kpi_rows(db_session, filters))
