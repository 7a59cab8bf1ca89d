"""The demand chart (issue 17, "charts where people look"): themes by size this period against the
previous period, served as SVG in the reader's language, each theme named in that language."""

from __future__ import annotations

import re

from sqlalchemy import select

PERIOD = "from=2026-W10&to=2026-W13"


def test_change_text_names_the_change_with_an_arrow():
    from perception.reporting.demand_chart import change_text

    assert change_text(12, 7) == "12 ▲ +5"
    assert change_text(4, 7) == "4 ▼ -3"
    assert change_text(7, 7) == "7 = 0"


def test_demand_chart_counts_this_and_the_previous_period_in_both_languages(
    login_as, db_session, write_texts
):
    from perception.analysis.services.text_run import run_text_analysis
    from perception.core.models.facts import TextEntry

    now = write_texts(
        [
            ("R1", 0, "IPv6 改造咨询：想了解我们现有网络要改哪些设备"),
            ("R2", 0, "希望贵司提供 IPv6 改造的咨询服务"),
            ("R3", 1, "IPv6 升级改造怎么做？需要一份评估和实施方案"),
        ]
    )
    write_texts([("R1", 0, "门户网站需要支持 IPv6 访问，请安排专家咨询改造方案")], week=-4)
    run_text_analysis(db_session)
    (key,) = set(db_session.scalars(select(TextEntry.theme_key).where(TextEntry.id.in_(now))))
    analyst = login_as("analyst")
    page = analyst.get(f"/analysis/demand?{PERIOD}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-testid="demand-chart"' in page and "/analysis/demand/chart.svg" in page
    for lang, title in (("en", "Themes: texts this period"), ("zh-CN", "主题：本期文本数")):
        response = analyst.get(f"/analysis/demand/chart.svg?{PERIOD}", headers={"Accept-Language": lang})
        svg = response.get_data(as_text=True)
        assert response.status_code == 200 and response.mimetype == "image/svg+xml"
        assert title in svg
        # Three texts in the four weeks, one in the four before: "3 ▲ +2".
        assert "3 ▲ +2" in svg
    en = analyst.get(f"/analysis/demand/chart.svg?{PERIOD}", headers={"Accept-Language": "en"})
    # The theme is named in English although its texts are Chinese (the concept dictionary's
    # English words for 改造 / 咨询 / ipv6).
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", en.get_data(as_text=True))
    assert any("ipv6" in t.lower() for t in texts), texts[:20]
    assert not any(re.search(r"[\u4e00-\u9fff]", t) for t in texts if "ipv6" in t.lower())
    assert key
