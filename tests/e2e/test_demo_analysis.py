"""On the demo data: the planted watermelon of the tickets demo is found and ranked first, and the
demo's analysis part ran the text analysis (themes, cross-validated classifiers), sent a need to
the market department and raised alerts. On the whole demo (the process's shared build)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

pytestmark = pytest.mark.slow

WEEKS = 8


def test_planted_watermelon_is_found_and_ranked_first(demo_session):
    from perception.analysis.models import Alert, Opportunity, TextAnalysisRun, TextClassifierModel, TextTheme
    from perception.analysis.services.filters import AnalysisFilters
    from perception.analysis.services.kpi_experience import kpi_vs_experience
    from perception.core.demo import load_demo
    from perception.core.periods import week_start

    today = date.today()
    db_session = demo_session(WEEKS, today)
    from perception.kpi.demo import PLANTED

    end = week_start(today) + timedelta(weeks=1)
    view = kpi_vs_experience(db_session, AnalysisFilters(start=end - timedelta(weeks=WEEKS + 1), end=end))
    top = view.watermelons[0]
    assert (top.service_code, top.region_code) == PLANTED["watermelon"]
    assert top.comparison.evidenced and top.comparison.watermelon_rank == 1
    # The reverse cell (KPI missed, customers satisfied) is never a watermelon.
    reverse = [c for c in view.cells if (c.service_code, c.region_code) == PLANTED["reverse"]]
    assert all(c.comparison.quadrant != "watermelon" for c in reverse)
    # Issue 14: under the multiplicity rule the evidenced watermelons name the planted cell alone.
    evidenced = {(w.service_code, w.region_code) for w in view.watermelons if w.comparison.evidenced}
    assert evidenced == {PLANTED["watermelon"]}
    # One row per service x region cell: the headline counts the planted cell once, whatever
    # number of its KPIs are met, and every candidate cell is listed once with its reason.
    from perception.analysis.services.kpi_experience import watermelon_cells

    cells = watermelon_cells(view)
    assert [(c.service_code, c.region_code) for c in cells.evidenced] == [PLANTED["watermelon"]]
    assert cells.headline == 1 and all(c.reason for c in cells.candidates)
    keys = [(c.service_id, c.region_id) for c in cells.all]
    assert len(keys) == len(set(keys)) == len({(w.service_id, w.region_id) for w in view.watermelons})
    print(f"per-KPI rows {len(view.watermelons)}, cells {len(cells.all)}, evidenced {cells.headline}")

    run = db_session.scalar(select(TextAnalysisRun))
    assert run.status == "done" and run.n_entries > 100
    assert db_session.scalar(select(func.count()).select_from(TextTheme)) >= 3
    category = db_session.scalar(select(TextClassifierModel).where(TextClassifierModel.target == "category"))
    assert category.cv_accuracy is not None and category.cv_accuracy > category.baseline_accuracy
    assert db_session.scalar(select(func.count()).select_from(Opportunity)) == 1
    assert db_session.scalar(select(func.count()).select_from(Alert)) >= 1
    # Idempotent: loading again adds no run, opportunity or alert.
    load_demo(db_session, weeks=WEEKS, today=today)
    assert db_session.scalar(select(func.count()).select_from(TextAnalysisRun)) == 1
    assert db_session.scalar(select(func.count()).select_from(Opportunity)) == 1
