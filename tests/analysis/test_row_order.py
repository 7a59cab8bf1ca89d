"""Results that must not depend on the order the database returns rows in. PostgreSQL returns
unordered rows in heap order, which changes when a row is updated (the new version goes elsewhere)
or when earlier, rolled-back work left free space; so each test writes its rows out of key order
and, where it matters, updates one so that PostgreSQL moves it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import update

from perception.analysis.services.kpi_links import KpiRow, pooled_target

MONDAY = date(2026, 3, 2)  # ISO week 2026-W10: week 0 of the analysis fixtures and of period_args
WEEKS = 4


def _row(tier_id: int | None, target: float | None, comparator: str | None = ">=") -> KpiRow:
    return KpiRow(1, 1, 1, tier_id, MONDAY, 0.93, 50, target, comparator, None)


def test_pooled_target_is_the_strictest_whatever_the_order():
    gold, silver, untargeted = _row(1, 0.95), _row(2, 0.90), _row(3, None, None)
    for rows in ([gold, silver, untargeted], [untargeted, silver, gold]):
        assert pooled_target(rows) == (0.95, ">=")
    assert pooled_target([_row(1, 0.05, "<="), _row(2, 0.08, "<=")]) == (0.05, "<=")
    assert pooled_target([_row(2, 0.08, "<="), _row(1, 0.05, "<=")]) == (0.05, "<=")
    assert pooled_target([untargeted]) == (None, None)


def _move(db_session, model, row_id: int) -> None:
    """On PostgreSQL an UPDATE writes a new row version after the others: heap order changes."""
    db_session.execute(update(model).where(model.id == row_id).values(id=model.id))


@pytest.fixture
def tiered(db_session, org, catalog, link_kpi):
    """RESP on DESK with Gold (target 95 %) and Silver (90 %) values of 93 % every week, written
    newest week first, R1 with Gold first and R2 with Silver first."""
    from perception.kpi.models import KpiValue
    from perception.setup.models.catalog import ServiceTier

    silver = ServiceTier(code="SILV", name_zh="银牌", name_en="Silver", rank=2)
    db_session.add(silver)
    db_session.flush()
    desk = catalog["DESK"]
    definition = link_kpi(desk, "RESP", 0.95, "csat_share", 0.85)
    tiers = {"GOLD": (catalog["GOLD"], 0.95), "SILV": (silver, 0.90)}
    order = {"R1": ("GOLD", "SILV"), "R2": ("SILV", "GOLD")}
    ids = []
    for week in reversed(range(WEEKS)):
        monday = MONDAY + timedelta(weeks=week)
        for region_code in ("R2", "R1"):
            for tier_code in order[region_code]:
                tier, target = tiers[tier_code]
                value = KpiValue(
                    definition_id=definition.id,
                    service_id=desk.id,
                    region_id=org[region_code]["region"].id,
                    tier_id=tier.id,
                    tier_key=tier.id,
                    granularity="week",
                    period_start=monday,
                    period_end=monday + timedelta(days=7),
                    value=0.93,
                    n=50,
                    target=target,
                    comparator=">=",
                    met=target <= 0.93,
                    provenance="computed",
                )
                db_session.add(value)
                db_session.flush()
                ids.append(value.id)
    _move(db_session, KpiValue, ids[0])
    return {"definition": definition, "desk": desk}


def test_kpi_rows_come_in_key_order(db_session, tiered, period_args):
    from perception.analysis.services.filters import parse_filters
    from perception.analysis.services.kpi_links import kpi_rows

    rows = kpi_rows(db_session, parse_filters(db_session, period_args, None, today=MONDAY))
    assert len(rows) == 2 * 2 * WEEKS
    keys = [(r.definition_id, r.service_id, r.region_id, r.period, r.tier_id) for r in rows]
    assert keys == sorted(keys)


def test_cell_target_does_not_depend_on_row_order(db_session, org, tiered, observe, period_args):
    """93 % meets Silver's 90 % but not Gold's 95 %: both cells are judged against 95 %, so neither
    is a watermelon, whichever tier's row the database returns first."""
    from perception.analysis.services.filters import parse_filters
    from perception.analysis.services.kpi_experience import kpi_vs_experience

    for region_code in ("R1", "R2"):
        for week in range(WEEKS):
            observe(org[region_code]["region"], tiered["desk"], "csat", [5] * 10 + [2] * 15, week=week)
    view = kpi_vs_experience(db_session, parse_filters(db_session, period_args, None, today=MONDAY))
    cells = {c.region_code: c.comparison for c in view.cells}
    assert set(cells) == {"R1", "R2"}
    for comparison in cells.values():
        assert comparison.kpi_target == pytest.approx(0.95)
        assert comparison.kpi_value == pytest.approx(0.93)
        assert comparison.quadrant == "both_missed"
    assert view.watermelons == ()


def test_training_set_in_label_order(db_session, write_texts):
    from sqlalchemy import func, select

    from perception.analysis.models import TextCategory, TextLabel
    from perception.analysis.services.text_labels import label_entry
    from perception.analysis.services.text_run import _training_set
    from perception.core.models.facts import TextEntry

    db_session.add_all(
        [
            TextCategory(code="mobile", name_zh="移动端", name_en="Mobile"),
            TextCategory(code="onsite", name_zh="驻场", name_en="On-site"),
        ]
    )
    items = [("R1", 0, f"希望手机报修 {i}") for i in range(3)] + [
        ("R2", 1, f"驻场工程师 {i}") for i in range(3)
    ]
    categories = ["mobile"] * 3 + ["onsite"] * 3
    for entry_id, category in zip(write_texts(items), categories, strict=True):
        entry = db_session.get(TextEntry, entry_id)
        label_entry(db_session, entry, category=category, sentiment=None, user_id=None)
    _move(db_session, TextLabel, db_session.scalar(select(func.min(TextLabel.id))))
    texts, labels, _ = _training_set(db_session, "category", {}, [])
    assert texts == [t for _, _, t in items]
    assert labels == categories
