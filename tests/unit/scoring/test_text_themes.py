"""Themes in personalised requirements: discovery, readability, persistent decisions, common needs.

The corpus is written for these tests: requirements raised by customers of an IT service provider
in four regions. Mobile / WeChat repair reporting and on-site engineers are asked for by many
customers in three or more regions in different wording; spare parts only in 华东 and 华北;
training and monthly reports by a few.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from scoring.text import (
    ThemeDecisions,
    ThemeModel,
    Tokenizer,
    common_need_message,
    common_needs,
    discover_themes,
)
from scoring.text.theme_matching import cosine_terms, match_profiles

# (entry id, customer, region, requirement)
Q1 = [
    ("r01", "华东银行", "华东", "希望能支持微信报修，现在只能打电话给服务台，很不方便"),
    ("r02", "江南证券", "华东", "能否提供手机端报修功能，员工在外面也能随时提交报修"),
    ("r03", "华北电力", "华北", "建议开发报修小程序，用手机拍照上传故障现象"),
    ("r04", "北方制造", "华北", "我们希望通过微信公众号提交报修并查看处理进度"),
    ("r05", "南方航空", "华南", "希望增加移动端报修入口，手机上就能报修"),
    (
        "r06",
        "珠江医院",
        "华南",
        "Please support mobile repair requests via WeChat, phone calls are inconvenient",
    ),
    ("r07", "西部能源", "西南", "手机报修功能什么时候能上线？希望尽快支持"),
    ("r08", "华东银行", "华东", "希望驻场工程师能固定下来，不要经常换人"),
    ("r09", "华北电力", "华北", "建议增派一名驻场工程师，现场支持人手不够"),
    ("r10", "南方航空", "华南", "希望在我们机房安排驻场工程师，提供现场支持"),
    ("r11", "珠江医院", "华南", "需要驻场人员支持夜间值班，晚上出故障没人处理"),
    ("r12", "江南证券", "华东", "We need an onsite engineer stationed at our office during trading hours"),
    ("r13", "西部能源", "西南", "驻场工程师技术水平有待提高，希望派经验丰富的工程师驻场"),
    ("r14", "华东银行", "华东", "备件更换太慢了，硬盘坏了等了一周才换"),
    ("r15", "北方制造", "华北", "希望在本地备件库存常用备件，缩短更换时间"),
    ("r16", "华北电力", "华北", "服务器备件到货慢，影响业务恢复"),
    ("r17", "江南证券", "华东", "Spare parts replacement takes too long, please keep common spares locally"),
    ("r18", "华东银行", "华东", "备件更换周期太长，希望承诺备件到货时间"),
    ("r19", "珠江医院", "华南", "新系统上线后培训不足，很多员工不会用"),
    ("r20", "西部能源", "西南", "希望定期组织运维培训，提高我们自己处理简单故障的能力"),
    ("r21", "华东银行", "华东", "培训时间太短，内容太多，希望增加培训课时"),
    ("r22", "北方制造", "华北", "Training for new staff is insufficient, please provide regular training"),
    ("r23", "江南证券", "华东", "希望提供操作培训视频，方便新员工学习"),
    ("r24", "华北电力", "华北", "希望每月提供服务报告，包括工单数量和处理时长"),
    ("r25", "南方航空", "华南", "需要月报统计故障类型和响应时间"),
    ("r26", "西部能源", "西南", "希望服务报告中增加满意度调查结果"),
    ("r27", "珠江医院", "华南", "Monthly service report should include SLA attainment and ticket statistics"),
    ("r28", "北方制造", "华北", "建议微信报修后能自动通知处理进度"),
]
Q2 = [
    ("s01", "东海物流", "华东", "希望开通微信报修，方便一线员工随时报修"),
    ("s02", "燕山化工", "华北", "手机报修小程序什么时候能用？"),
    ("s03", "岭南电网", "华南", "建议提供移动端报修和进度查询"),
    ("s04", "巴蜀银行", "西南", "We would like to submit repair tickets from a mobile app"),
    ("s05", "东海物流", "华东", "需要驻场工程师周末也能在岗"),
    ("s06", "燕山化工", "华北", "备件库存不足，更换要等很久"),
    ("s07", "巴蜀银行", "西南", "希望增加网络安全培训"),
]
ALL = Q1 + Q2
CUSTOMER = {entry: customer for entry, customer, _, _ in ALL}
REGION = {entry: region for entry, _, region, _ in ALL}
PERIOD = {entry: ("2024-Q1" if entry.startswith("r") else "2024-Q2") for entry, *_ in ALL}
MOBILE = {"r01", "r02", "r03", "r04", "r05", "r06", "r07", "r28"}
ONSITE = {"r08", "r09", "r10", "r12", "r13"}
SPARES = {"r14", "r15", "r16", "r17", "r18"}


def _run(entries: list[tuple[str, str, str, str]], **kwargs: object) -> ThemeModel:
    texts = [text for *_, text in entries]
    ids = [entry for entry, *_ in entries]
    return discover_themes(texts, ids, TOKENIZER, **kwargs)  # type: ignore[arg-type]


def _majority_key(model: ThemeModel, entries: set[str]) -> tuple[str, float]:
    """The theme holding most of `entries` and the share of `entries` it holds."""
    keys = [a.theme_key for a in model.assignments if a.entry_id in entries]
    best = max(set(keys), key=lambda k: (keys.count(k), str(k)))
    assert best is not None
    return best, keys.count(best) / len(entries)


TOKENIZER = Tokenizer()


@pytest.fixture(scope="module")
def first() -> ThemeModel:
    return _run(Q1)


def test_themes_are_found_and_readable(first: ThemeModel) -> None:
    assert first.k_rule == "threshold"
    mobile, share = _majority_key(first, MOBILE)
    assert share >= 0.75
    assert "报修" in first.theme(mobile).top_terms[:3]
    onsite, share = _majority_key(first, ONSITE)
    assert share >= 0.8
    assert {"驻场工程师", "驻场"} & set(first.theme(onsite).top_terms[:3])
    spares, share = _majority_key(first, SPARES)
    assert share == 1.0
    assert first.theme(spares).top_terms[0] == "备件"
    assert len({mobile, onsite, spares}) == 3
    texts: dict[str | int, str] = {entry: text for entry, *_, text in Q1}
    for theme in first.themes:
        assert 1 <= len(theme.example_ids) <= 3
        assert theme.label == " / ".join(theme.top_terms[:3])
        for entry, text in zip(theme.example_ids, theme.example_texts, strict=True):
            assert texts[entry] == text
            assert first.theme_of()[entry] == theme.key
    # A text sharing no theme with any other stays unthemed rather than padding a theme.
    themed = [a for a in first.assignments if a.theme_key is not None]
    assert sum(theme.size for theme in first.themes) == len(themed) >= len(Q1) - 4
    assert len(set(first.theme_keys())) == len(first.themes)
    assert all(0 < a.weight <= 1 for a in themed)


def test_same_data_same_keys(first: ThemeModel) -> None:
    again = _run(Q1, decisions=first.decisions)
    assert again.theme_of() == first.theme_of()


def test_given_k_is_used() -> None:
    model = _run(Q1, k=3, min_size=1)
    assert model.k_rule == "given" and model.n_components == 3
    assert len({a.theme_key for a in model.assignments}) == 3


def test_theme_in_three_regions_is_a_common_need(first: ThemeModel) -> None:
    mobile, _ = _majority_key(first, MOBILE)
    spares, _ = _majority_key(first, SPARES)
    needs = common_needs(first.assignments, CUSTOMER, REGION, PERIOD, "2024-Q1")
    keys = [need.theme_key for need in needs]
    assert mobile in keys
    assert spares not in keys  # five entries, three customers, but only 华东 and 华北
    need = needs[keys.index(mobile)]
    assert len(need.regions) >= 3 and len(need.customers) >= 3
    message = common_need_message(need, "移动端报修")
    assert "移动端报修" in message.zh and "customers" in message.en


def test_decisions_persist_across_rerun_with_added_texts(first: ThemeModel) -> None:
    mobile, _ = _majority_key(first, MOBILE)
    training, _ = _majority_key(first, {"r19", "r21", "r23"})
    reports, _ = _majority_key(first, {"r24", "r26", "r27"})
    assert len({mobile, training, reports}) == 3
    decisions = (
        first.decisions.rename(mobile, "移动端报修").merge([training, reports]).rename(training, "培训与报告")
    )
    stored = decisions.to_json()
    second = _run(ALL, decisions=ThemeDecisions.from_json(stored))
    again_mobile, share = _majority_key(second, MOBILE | {"s01", "s02", "s03"})
    assert again_mobile == mobile and share >= 0.75
    assert second.theme(mobile).name == "移动端报修"
    merged, share = _majority_key(second, {"r19", "r21", "r23", "r24", "r26", "r27"})
    assert merged == training and share >= 0.8
    assert second.theme(training).name == "培训与报告"
    assert reports not in second.theme_keys()
    assert len(set(second.theme_keys())) == len(second.themes)
    assert sum(theme.size for theme in second.themes) >= len(ALL) - 5
    # The grown period's mobile requests are a common need on their own (four regions).
    needs = common_needs(second.assignments, CUSTOMER, REGION, PERIOD, "2024-Q2")
    assert mobile in [need.theme_key for need in needs]


def test_split_is_respected_and_kept(first: ThemeModel) -> None:
    mobile, _ = _majority_key(first, MOBILE)
    decisions = first.decisions.split(mobile, [["微信", "公众号"], ["小程序", "移动端", "手机"]])
    (split,) = decisions.splits
    wechat_key, app_key = split.keys
    assert wechat_key == mobile and app_key not in first.theme_keys()
    for entries, decisions_now in ((Q1, decisions), (ALL, decisions)):
        model = _run(entries, decisions=decisions_now)
        theme_of = model.theme_of()
        assert {theme_of[e] for e in ("r01", "r04", "r28")} == {wechat_key}
        assert {theme_of[e] for e in ("r02", "r03", "r05", "r07")} == {app_key}
        decisions = model.decisions  # the next run starts from what this one learnt
    assert theme_of["s01"] == wechat_key and theme_of["s02"] == app_key


def test_pinned_terms_join_signature(first: ThemeModel) -> None:
    spares, _ = _majority_key(first, SPARES)
    pinned = first.decisions.pin(spares, ["备件", "库存"]).rename(spares, "备件")
    assert pinned.pinned_terms(spares) == ("备件", "库存")
    model = _run(ALL, decisions=pinned)
    assert model.theme_of()["s06"] == spares
    assert model.theme(spares).name == "备件"


def test_decisions_json_round_trip(first: ThemeModel) -> None:
    decisions = (
        first.decisions.rename("T1", "名称").merge(["T2", "T3"], into="T3").split("T4", [["a"], ["b"]])
    )
    assert ThemeDecisions.from_json(decisions.to_json()) == decisions
    assert decisions.rename("T1", "").name_of("T1") is None
    with pytest.raises(ValueError, match="two distinct"):
        decisions.merge(["T1", "T1"])
    with pytest.raises(ValueError, match="two non-empty"):
        decisions.split("T1", [["a"]])


def test_cosine_terms_matches_numpy() -> None:
    a = {"备件": 0.8, "更换": 0.5, "慢": 0.1}
    b = {"备件": 0.3, "库存": 0.9, "慢": 0.4}
    terms = sorted(set(a) | set(b))
    va = np.array([a.get(t, 0.0) for t in terms])
    vb = np.array([b.get(t, 0.0) for t in terms])
    expected = va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb))
    assert cosine_terms(a, b) == pytest.approx(expected)


def test_match_profiles_is_the_best_one_to_one_assignment() -> None:
    rng = np.random.default_rng(7)
    vocabulary = [f"w{i}" for i in range(12)]
    profiles = [dict(zip(vocabulary, rng.random(12), strict=True)) for _ in range(4)]
    signatures = {f"T{j}": dict(zip(vocabulary, rng.random(12), strict=True)) for j in range(5)}
    matched = match_profiles(profiles, signatures, threshold=0.0)
    # Brute force over all injective maps of 4 profiles into 5 keys.
    keys = sorted(signatures)
    best = max(
        itertools.permutations(keys, 4),
        key=lambda perm: sum(cosine_terms(profiles[i], signatures[k]) for i, k in enumerate(perm)),
    )
    assert [matched[i] for i in range(4)] == list(best)
    assert match_profiles(profiles, signatures, threshold=1.01) == {}


def test_small_and_empty_inputs() -> None:
    empty = discover_themes(["的了", "我们"], ["a", "b"], TOKENIZER)
    assert empty.themes == () and [a.theme_key for a in empty.assignments] == [None, None]
    tiny = discover_themes(["备件更换太慢", "培训不足", "的"], [1, 2, 3], TOKENIZER, k=5, min_size=1)
    assert tiny.n_components == 2
    assert [a.theme_key is None for a in tiny.assignments] == [False, False, True]
    assert tiny.theme_of()[1] != tiny.theme_of()[2]
    with pytest.raises(ValueError, match="unique"):
        discover_themes(["a", "b"], [1, 1], TOKENIZER)
    with pytest.raises(ValueError, match="same length"):
        discover_themes(["a", "b"], [1], TOKENIZER)
