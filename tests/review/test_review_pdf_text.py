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
# Written in both languages (issue 17: "bilingual fields carry both, one chosen").
FINDING = (
    "上海网络的变更窗口与客户业务高峰重叠。",
    "Shanghai network changes fall into the customer's busy hours.",
)
ITEM = ("网络变更改到夜间窗口", "Move network changes to the night window")


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
    review_signoff.add_finding(
        db_session, h1, kind="decision", text=FINDING[0], text_en=FINDING[1],
        evidence_section="health", today=date(2026, 6, 20),
    )  # fmt: skip
    review_register.create_item(
        db_session,
        review_register.ItemInput(title=ITEM[0], title_en=ITEM[1], review_id=h1.id, value=4, effort=2),
        today=date(2026, 6, 20),
    )
    review_register.create_item(
        db_session,
        review_register.ItemInput(title="", title_en="Callback script for the desk", review_id=h1.id),
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


def _joined(lines: list[str]) -> str:
    return "".join("".join(lines).split())  # a text may wrap anywhere


def test_a_text_written_in_both_languages_shows_only_the_pdfs_language(db_session, signed):
    zh, en = _joined(_lines(db_session, signed, "zh")), _joined(_lines(db_session, signed, "en"))
    for chinese, english in (FINDING, ITEM):
        chinese, english = "".join(chinese.split()), "".join(english.split())
        assert chinese in zh and english not in zh
        assert english in en and chinese not in en


def test_a_text_written_in_one_language_shows_in_both_pdfs(db_session, signed):
    for lang in ("zh", "en"):
        text = _joined(_lines(db_session, signed, lang))
        assert "".join(USER_WROTE_IN_CHINESE[1].split()) in text
        assert "Callbackscriptforthedesk" in text
