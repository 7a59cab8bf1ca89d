"""The review PDF as a director reads it (issue 17): the provider's name on the cover, no number
or Latin word cut across lines in either language, no Chinese in the English PDF except what a
user wrote only in Chinese, and an empty table said in one line instead of a heading over nothing."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from perception.core.clock import Clock
from perception.review.services import register as review_register
from perception.review.services import reports as review_reports
from perception.review.services import signoff as review_signoff
from perception.setup.services.plan import set_provider_names
from tests.pdf_text import CJK, cut_tokens, pdf_lines, tokens

USER_WROTE_IN_CHINESE = ("张体系", "北京服务台的响应 KPI 达标，但客户满意度只有 48%。", "服务台回访闭环")


@pytest.fixture
def signed(db_session, h1, watermelon, make_user):
    owner = make_user("boss", "system_owner")
    owner.display_name = USER_WROTE_IN_CHINESE[0]
    review_signoff.add_finding(
        db_session, h1, kind="finding", text=USER_WROTE_IN_CHINESE[1],
        evidence_section="kpi_experience", evidence_key="watermelon:DESK|R1", today=date(2026, 6, 20),
    )  # fmt: skip
    review_register.create_item(
        db_session,
        review_register.ItemInput(title=USER_WROTE_IN_CHINESE[2], review_id=h1.id, value=5, effort=2),
        today=date(2026, 6, 20),
    )
    review_signoff.sign(db_session, h1, owner, clock=Clock(fixed_now=datetime(2026, 7, 6, 9)))
    return h1


def _lines(db_session, review, lang: str) -> list[str]:
    report = review_reports.generate_report(db_session, review, lang, today=date(2026, 7, 6))
    assert report.status == "ready", report.error
    return pdf_lines(report.content)


def test_the_cover_names_the_provider_not_a_placeholder(db_session, signed):
    set_provider_names(db_session, "华信数智运维服务有限公司", "Huaxin Digital IT Services")
    zh, en = _lines(db_session, signed, "zh"), _lines(db_session, signed, "en")
    assert "单位：华信数智运维服务有限公司" in zh[:8]
    assert "Organisation: Huaxin Digital IT Services" in en[:8]
    assert not any("User perception system" in line for line in en[:8] if "Organisation" in line)


def test_without_a_provider_name_the_cover_leaves_the_line_out(db_session, signed):
    assert not any(line.startswith("Organisation") for line in _lines(db_session, signed, "en")[:8])


def test_no_number_or_word_is_cut_and_english_carries_no_chinese(db_session, signed):
    set_provider_names(db_session, "华信数智运维服务有限公司", "Huaxin Digital IT Services")
    for lang in ("zh", "en"):
        lines = _lines(db_session, signed, lang)
        assert cut_tokens(lines, tokens(lines)) == [], lang
    text = "".join("".join(_lines(db_session, signed, "en")).split())  # a user's text may wrap
    for written in USER_WROTE_IN_CHINESE:
        text = text.replace("".join(written.split()), "")
    assert CJK.findall(text) == []


def test_an_empty_table_is_one_line(db_session, signed):
    lines = _lines(db_session, signed, "en")
    assert "Cells whose quadrant changed since the previous period: No quadrant changed" in lines
    assert not any("(no data)" in line for line in lines)
