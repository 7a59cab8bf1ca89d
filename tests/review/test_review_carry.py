"""Improvement items carry into the next review: those raised in the previous review, and those
still open at the start of the new period, each with its measured result computed from the data."""

from __future__ import annotations

from datetime import date, datetime

from perception.core.clock import Clock
from perception.review.services import register as review_register
from perception.review.services import signoff as review_signoff
from perception.review.services.periods import ensure_review, parse_periods
from perception.review.services.sections import compute_content, section_of


def _rows(content):
    block = next(b for b in section_of(content, "improvements")["blocks"] if b["type"] == "table")
    return {row["code"]: row for row in block["rows"]}


def test_items_carry_into_the_next_review(db_session, org, catalog, observe, h1, make_user):
    owner = make_user("boss", "system_owner")
    r1, desk = org["R1"]["region"], catalog["DESK"]
    observe(r1, desk, "csat", [5] * 20 + [2] * 20, day=date(2026, 4, 6))  # baseline 50 %
    observe(r1, desk, "csat", [5] * 35 + [2] * 5, day=date(2026, 9, 7))  # after completion 87.5 %
    finding = review_signoff.add_finding(
        db_session,
        h1,
        kind="finding",
        text="北京满意度低",
        evidence_section="health",
        today=date(2026, 6, 20),
    )
    mk = review_register.create_item
    raised_open = review_signoff.raise_improvement(
        db_session, finding, title="工程师回访", today=date(2026, 6, 20)
    )
    raised_done = mk(
        db_session,
        review_register.ItemInput(
            title="备件前置",
            review_id=h1.id,
            metric="csat_share",
            metric_service_id=desk.id,
            region_id=r1.id,
            baseline_from=date(2026, 3, 30),
            baseline_to=date(2026, 5, 4),
            target_value=0.8,
        ),
        today=date(2026, 6, 20),
    )
    older = mk(
        db_session,
        review_register.ItemInput(title="早期遗留事项", status="in_progress"),
        today=date(2026, 1, 10),
    )
    older.created_at = datetime(2026, 1, 10)
    closed_early = mk(
        db_session,
        review_register.ItemInput(title="早已完成", status="completed", completed_on=date(2026, 1, 20)),
        today=date(2026, 1, 20),
    )
    closed_early.created_at = datetime(2026, 1, 10)
    db_session.flush()
    review_signoff.sign(db_session, h1, owner, clock=Clock(fixed_now=datetime(2026, 7, 3)))
    review_register.set_status(
        db_session, raised_done, "completed", today=date(2026, 9, 1), completed_on=date(2026, 9, 1)
    )

    h2, _ = ensure_review(db_session, date(2026, 8, 1), parse_periods("H1,H2"))
    content = compute_content(db_session, h2, today=date(2026, 11, 2))
    rows = _rows(content)
    assert set(rows) == {raised_open.code, raised_done.code, older.code}
    assert rows[raised_open.code]["origin"]["en"] == "raised in previous review"
    assert rows[older.code]["origin"]["en"] == "carried forward"
    assert rows[raised_open.code]["status"]["en"] == "proposed"
    result = rows[raised_done.code]["result"]["en"]
    assert "50.0% → 87.5%" in result and "significant improvement" in result and "target met" in result
    assert content["previous"]["code"] == "2026-H1"
    facts = section_of(content, "improvements")["facts"]
    assert facts["completed_measured"] == 1 and facts["improved"] == 1
    register_codes = {r["code"] for r in content["register"]["blocks"][0]["rows"]}
    assert {raised_open.code, raised_done.code, older.code} <= register_codes
    assert closed_early.code not in register_codes
