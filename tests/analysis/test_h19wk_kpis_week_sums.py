"""Issue 19: the internal KPI page reads its weekly sums for every region (or every region of one
service or tier) from the sums over the regions (kpi.services.kpi_week_sums) while they are
current, and a user scoped to some regions still groups their values. Same figures either way,
and the same as the row-by-row analysis (main's, tests/analysis/h19kpis2_main_kpis.py): on values
shaped like a provider's (a large region with tiers, small ones, gaps, values without n, target or
"met", a KPI whose rows carry two comparators, one without comparator, a percentile KPI), through
the service, the page, its CSV export and the API."""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from perception.analysis.services import kpis
from perception.analysis.services.kpis import kpi_analysis
from perception.kpi.services.kpi_values_stamp import Freshness
from perception.kpi.services.kpi_week_sums import refresh_week_sums, week_sums_freshness
from tests.analysis import h19kpis2_main_kpis as main
from tests.analysis.conftest import MONDAY
from tests.analysis.test_h19kpis2_kpis_sums import WEEKS, _filters, _same_float, _same_rows, generated

__all__ = ["generated"]  # the fixture, imported for pytest

WHICH = ["all", "scoped", "one_region", "service", "tier", "shorter", "longer"]


def _filters_of(generated, which):  # noqa: F811
    if which == "longer":  # the period runs past the values on both sides
        base = _filters(generated, "all")
        return replace(base, start=base.start - timedelta(weeks=3), end=base.end + timedelta(weeks=2))
    return _filters(generated, which)


def _same_view(new, old):
    _same_rows(new.summary, old.summary)
    _same_rows(new.by_region, old.by_region)
    assert [vars(b) for b in new.breaches] == [vars(b) for b in old.breaches]
    assert new.breach_count == old.breach_count and new.region_total == len(old.by_region)
    assert len(new.trends) == len(old.trends)
    for a, b in zip(new.trends, old.trends, strict=True):
        assert vars(replace(a, values=())) == vars(replace(b, values=()))
        assert all(_same_float(x, y) for x, y in zip(a.values, b.values, strict=True))


def _same_json(a, b):
    """Equal, floats to 1e-12 (sums of the same values added in another order)."""
    if isinstance(a, float) and isinstance(b, float):
        assert _same_float(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same_json(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same_json(x, y)
    else:
        assert a == b


def _csv(text):
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) > 20
    return [[_number(cell) for cell in row] for row in rows]


def _number(cell):
    try:
        return float(cell) if "." in cell else cell
    except ValueError:
        return cell


def _bound(pick, a, b):
    return pick((x for x in (a, b) if x is not None), default=None)


def _groups(session, filters):
    out = {}
    for d, s, period, comparator, total, w, n, missed, hit, high, low in kpis._week_groups(session, filters):
        key = (d, s, period, comparator)
        row = (float(total), float(w), int(n), int(missed), int(hit), high, low)
        if key in out:  # one row per tier from the week sums: added up
            o = out[key]
            row = (
                *(a + b for a, b in zip(o[:5], row[:5], strict=True)),
                _bound(max, o[5], high),
                _bound(min, o[6], low),
            )
        out[key] = row
    return out


@pytest.mark.parametrize("which", WHICH)
def test_the_week_sums_give_the_values_figures(db_session, generated, which, monkeypatch):  # noqa: F811
    filters = _filters_of(generated, which)
    assert week_sums_freshness(db_session) is Freshness.ABSENT
    grouped = _groups(db_session, filters)  # from the values
    before = kpi_analysis(db_session, filters)
    assert grouped and before.summary and before.breach_count
    refresh_week_sums(db_session)
    assert week_sums_freshness(db_session) is Freshness.CURRENT
    scoped = filters.region_ids is not None
    if not scoped:  # every region: the values are not grouped again
        real = kpis.value_groups
        monkeypatch.setattr(kpis, "value_groups", lambda *a: pytest.fail("grouped the values") or real(*a))
    kept = _groups(db_session, filters)
    assert kept.keys() == grouped.keys()
    for key, (total, w, n, missed, hit, high, low) in kept.items():
        g = grouped[key]
        assert (n, missed, hit, high, low) == g[2:], key
        assert math.isclose(total, g[0], rel_tol=1e-12) and math.isclose(w, g[1], rel_tol=1e-12), key
    after = kpi_analysis(db_session, filters)
    _same_view(after, before)
    monkeypatch.undo()
    _same_view(after, main.kpi_analysis(db_session, filters))


def test_sums_gone_stale_are_not_read(db_session, generated):  # noqa: F811
    from perception.kpi.models import KpiValue

    filters = _filters_of(generated, "all")
    refresh_week_sums(db_session)
    value = db_session.query(KpiValue).filter(KpiValue.met.is_(True)).first()
    value.met = False  # a write no writer hook follows: one more breach
    db_session.flush()
    assert week_sums_freshness(db_session) is Freshness.STALE
    view = kpi_analysis(db_session, filters)
    _same_view(view, main.kpi_analysis(db_session, filters))
    assert view.breach_count == main.kpi_analysis(db_session, filters).breach_count


def test_page_export_and_api_show_the_same_with_the_week_sums(
    login_as,
    make_user,
    db_session,
    generated,  # noqa: F811
    monkeypatch,
):
    from perception.core.users import issue_token

    monkeypatch.setattr(kpis, "utcnow", lambda: datetime(2026, 4, 1, 9, 0))
    end = MONDAY + timedelta(weeks=WEEKS, days=-1)
    query = f"from={MONDAY.isoformat()}&to={end.isoformat()}"
    manager = login_as("manager")
    _, secret = issue_token(db_session, make_user("api_manager", "manager"), "t")
    api = {"Authorization": f"Bearer {secret}"}
    service = generated["services"][1].id

    def shown():
        kpis.forget_kept()
        out = []
        for path in (
            f"/analysis/kpis?{query}",
            f"/analysis/kpis?{query}&page=2",
            f"/analysis/kpis?{query}&service={service}",
            f"/analysis/export/kpi_attainment.csv?{query}",
        ):
            response = manager.get(path)
            assert response.status_code == 200, path
            # The export's own moment and the form's per-request token are no figures.
            out.append(
                re.sub(
                    r'(csrf_token" value="|\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)[^"<,\n]*',
                    "",
                    response.get_data(as_text=True),
                )
            )
        response = manager.get(f"/api/v1/analysis/kpis?{query}", headers=api)
        assert response.status_code == 200
        out.append(response.get_json())
        return out

    before = shown()
    assert "<td>G00</td>" in before[0] and "H_MIXED" in before[3]
    refresh_week_sums(db_session)
    assert week_sums_freshness(db_session) is Freshness.CURRENT
    after = shown()
    assert after[:3] == before[:3]  # the pages show rounded figures: the same text
    # The export and the API give every digit: the same, but for the last digits of values summed
    # in another order (as two databases, or two query plans, sum them).
    _same_json(_csv(after[3]), _csv(before[3]))
    _same_json(after[4], before[4])
    kpis.forget_kept()
