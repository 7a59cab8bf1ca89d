"""Theme names for English readers: a theme whose texts are Chinese is named in English words
(the concept dictionary's) on the demand page, the common needs list and the market page; a name a
person gave in both languages shows the reader's half; a name given only in Chinese stays as
written (the fallback, as is a term the dictionary has no English for)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from tests.analysis.conftest import MONDAY

HAN = re.compile(r"[\u4e00-\u9fff]")
IPV6 = [
    ("R1", 0, "IPv6 改造咨询：想了解我们现有网络要改哪些设备"),
    ("R2", 0, "希望贵司提供 IPv6 改造的咨询服务，上级要求年底前完成"),
    ("R3", 1, "IPv6 升级改造怎么做？需要一份评估和实施方案"),
]


def test_a_bilingual_name_reads_in_the_readers_language():
    from scoring.text.themes import label_terms, name_in

    assert name_in("移动端报修 Mobile repair", "en") == "Mobile repair"
    assert name_in("移动端报修 Mobile repair", "zh") == "移动端报修"
    assert name_in("培训 / Training", "en") == "Training"
    assert name_in("IPv6 改造咨询", "en") == "IPv6 改造咨询"  # given only in Chinese: as written
    assert label_terms(["改造", "咨询", "ipv6"], ["upgrade", "consulting", "ipv6"], "en") == (
        "upgrade / consulting / ipv6"
    )
    # Fallback: a term without an English form fills the label only when English words run out.
    assert label_terms(["改造", "机房"], ["upgrade", "机房"], "en") == "upgrade / 机房"


def test_english_reader_sees_english_theme_words_on_demand_and_market_pages(
    login_as, db_session, write_texts
):
    from perception.analysis.models import OpportunityKind
    from perception.analysis.services.opportunities import create_from_need
    from perception.analysis.services.text_run import run_text_analysis
    from perception.analysis.services.text_settings import SettingsUpdate, update_settings
    from perception.core.models.facts import TextEntry
    from perception.core.models.org import Region

    update_settings(db_session, SettingsUpdate(min_customers=3, min_regions=3))
    ids = write_texts(IPV6)
    run_text_analysis(db_session)
    (key,) = set(db_session.scalars(select(TextEntry.theme_key).where(TextEntry.id.in_(ids))))
    opp = create_from_need(
        db_session,
        kind=OpportunityKind.COMMON,
        theme_key=key,
        period_start=MONDAY,
        period_end=MONDAY + timedelta(weeks=1),
        region_ids=None,
        created_by_id=None,
    )
    assert HAN.search(opp.title)  # stored as the Chinese label
    assert db_session.scalar(select(Region.id))
    analyst = login_as("analyst", "market")
    en = {"Accept-Language": "en"}
    demand = analyst.get("/analysis/demand?from=2026-W10&to=2026-W10", headers=en).get_data(as_text=True)
    needs = demand[demand.index('data-testid="common-needs"') :]
    first = re.search(r"<tbody><tr><td>([^<]*)<small", needs).group(1)
    assert "ipv6" in first.lower() and not HAN.search(first)
    card = re.search(rf'id="theme-{key}">\s*<h3>([^<]*)<small', demand).group(1)
    assert not HAN.search(card)
    market = analyst.get("/analysis/opportunities?queue=0", headers=en).get_data(as_text=True)
    title = re.search(rf'id="opp-{opp.id}">\s*<h2>([^<]*)<span', market).group(1)
    assert "ipv6" in title.lower() and not HAN.search(title)
    zh = analyst.get("/analysis/opportunities?queue=0", headers={"Accept-Language": "zh-CN"})
    assert opp.title in zh.get_data(as_text=True)
