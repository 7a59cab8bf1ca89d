"""Tokenisation of Chinese, English and mixed IT-service texts (scoring.text.tokenizer).

jieba's pkg_resources DeprecationWarning (raised only when setuptools' pkg_resources is
installed) is ignored inside scoring.text.tokenizer around the jieba import itself, so no
filterwarnings mark is needed here; `test_import_is_quiet_under_warnings_as_errors` checks it.
"""

from __future__ import annotations

import logging
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import scoring.text.tokenizer as tokenizer_module
from scoring.text import Tokenizer, default_stopwords, default_synonyms, light_stem


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer()


@pytest.mark.parametrize(
    ("text", "whole"),
    [
        ("驻场工程师这周请假了，现场没人处理工单", ["驻场工程师", "工单"]),
        ("希望提高响应速度，故障处理也要更规范", ["响应速度", "故障处理"]),
        ("堡垒机登录经常超时，影响日常巡检", ["堡垒机", "巡检"]),
        ("等保测评前要完成漏洞扫描", ["等保", "漏洞扫描"]),
        ("双活数据中心的灾备切换演练什么时候做", ["灾备", "机房", "演练"]),
        ("服务台电话回访时记录了备件问题", ["服务台", "电话回访", "备件"]),
    ],
)
def test_domain_words_stay_whole(tokenizer: Tokenizer, text: str, whole: list[str]) -> None:
    tokens = tokenizer.tokenize(text)
    for word in whole:
        assert word in tokens, (word, tokens)


def test_response_speed_kept_whole_then_mapped_only_by_synonyms() -> None:
    plain = Tokenizer(synonyms={})
    assert "响应速度" in plain.tokenize("响应速度太慢")


def test_user_words_extend_dictionary_without_leaking() -> None:
    text = "建议开通移动端报修和微信报修"
    default = Tokenizer(synonyms={})
    assert "移动端报修" not in default.tokenize(text)
    extended = Tokenizer(["移动端报修", "微信报修"], synonyms={})
    assert extended.tokenize(text) == ["开通", "移动端报修", "微信报修"]
    # A tokenizer made afterwards, and jieba's own global dictionary, are unchanged.
    assert "移动端报修" not in Tokenizer(synonyms={}).tokenize(text)
    import jieba

    assert "移动端报修" not in jieba.lcut(text)


def test_with_words_returns_new_tokenizer() -> None:
    base = Tokenizer(synonyms={})
    more = base.with_words(["巡检报告"])
    assert more.user_words == ("巡检报告",)
    assert "巡检报告" in more.tokenize("请按月提交巡检报告")
    assert "巡检报告" not in base.tokenize("请按月提交巡检报告")


def test_stopwords_removed_but_negations_kept(tokenizer: Tokenizer) -> None:
    tokens = tokenizer.tokenize("我们希望工程师的态度不要这么差，而且不及时")
    assert not {"我们", "希望", "的", "而且"} & set(tokens)
    assert "不要" in tokens or "不" in tokens
    assert "差" in tokens


def test_english_is_lowercased_stemmed_and_filtered() -> None:
    plain = Tokenizer(synonyms={})
    assert plain.tokenize("The Printers are OFFLINE again, and the queries were not answered!") == [
        "printer",
        "offline",
        "query",
        "not",
        "answered",
    ]
    assert Tokenizer(synonyms={}, stem_english=False).tokenize("Printers offline") == ["printers", "offline"]


def test_mixed_chinese_english_and_full_width(tokenizer: Tokenizer) -> None:
    tokens = tokenizer.tokenize("ＶＰＮ经常断线，please fix the VPN gateway ASAP；OA系统也打不开")
    assert tokens.count("vpn") == 2
    assert {"经常", "断线", "fix", "gateway", "asap", "oa系统", "打不开"} <= set(tokens)


def test_synonyms_join_english_and_chinese_wording(tokenizer: Tokenizer) -> None:
    english = tokenizer.tokenize("Please support repair requests via WeChat")
    chinese = tokenizer.tokenize("希望支持微信报修")
    assert {"移动端", "报修"} <= set(english) & set(chinese)
    assert default_synonyms()["spare"] == "备件"
    # A Chinese alias is kept whole by the dictionary, then mapped.
    assert tokenizer.tokenize("手机端报修") == ["移动端", "报修"]
    assert Tokenizer(synonyms={}).tokenize("手机端报修") != ["移动端", "报修"]


@pytest.mark.parametrize(
    ("word", "stem"),
    # Hand-worked from the rules in Harman (1991), Table 1.
    [
        ("queries", "query"),
        ("issues", "issue"),
        ("printers", "printer"),
        ("status", "status"),
        ("class", "class"),
        ("gas", "gas"),
        ("toes", "toe"),
        ("agrees", "agree"),
    ],
)
def test_light_stem_follows_harman_s_stemmer(word: str, stem: str) -> None:
    assert light_stem(word) == stem


def test_default_stopwords_cover_both_languages() -> None:
    words = default_stopwords()
    assert {"的", "了", "希望", "the", "please"} <= words
    assert not {"不", "没有", "not", "no"} & words


def test_pickle_keeps_settings_and_tokens() -> None:
    original = Tokenizer(["移动端报修"], stopwords={"的"}, synonyms={"wechat": "微信"})
    copy = pickle.loads(pickle.dumps(original))  # noqa: S301 - our own bytes
    text = "希望的移动端报修支持 WeChat"
    assert copy.tokenize(text) == original.tokenize(text)
    assert copy.user_words == ("移动端报修",)


def test_tokenize_many_matches_tokenize(tokenizer: Tokenizer) -> None:
    texts = ["备件更换太慢", "spare parts are slow", "备件更换太慢"]
    assert tokenizer.tokenize_many(texts) == [tokenizer.tokenize(t) for t in texts]


def test_building_dictionary_prints_nothing(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tokenizer_module, "_BASE", [])
    tokenizer_module._jieba_for.cache_clear()
    level = logging.getLogger("jieba").level
    assert Tokenizer(["专属词"]).tokenize("专属词") == ["专属词"]
    captured = capfd.readouterr()
    assert "prefix dict" not in captured.err + captured.out
    assert logging.getLogger("jieba").level == level


def test_import_is_quiet_under_warnings_as_errors() -> None:
    code = "from scoring.text import Tokenizer; print(Tokenizer().tokenize('工单'))"
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['工单']"
    assert "Building prefix dict" not in done.stderr


def test_phrase_aliases_and_english_labels(tokenizer: Tokenizer) -> None:
    # Several-word English aliases are matched as phrases, with hyphens, spaces or plurals.
    assert tokenizer.tokenize("Please extend service desk hours") == tokenizer.tokenize(
        "extend service-desks hour"
    )
    assert "服务台" in tokenizer.tokenize("Please extend service desk hours")
    assert "驻场工程师" in tokenizer.tokenize("We need an on-site engineer")
    assert "驻场" in tokenizer.tokenize("on-site support please")
    assert tokenizer.english_of("移动端") == "mobile" and tokenizer.english_of("没有别名") == "没有别名"


def test_theme_tokens_drop_stopwords_of_every_kind(tokenizer: Tokenizer) -> None:
    themes = tokenizer.for_themes()
    # The labels "day / fix / did" and request phrasings carry no theme.
    tokens = themes.tokenize("It did take a day to fix; 希望尽快提供 IPv6 改造咨询")
    assert not {"did", "day", "fix", "希望", "尽快", "提供"} & set(tokens)
    assert {"ipv6", "改造", "咨询"} <= set(tokens)
    assert "不" in tokenizer.tokenize("响应不及时") and "不" not in themes.tokenize("响应不及时")


def test_a_delivery_verb_names_no_theme(tokenizer: Tokenizer) -> None:
    # The demo's inspection theme was labelled "巡检 / 机房 / 发给": "send it to us" says how a
    # report is wanted, not what about.
    tokens = tokenizer.for_themes().tokenize("机房巡检报告请每月发给我们 please send the inspection report")
    assert not {"发给", "send"} & set(tokens)
    assert {"巡检", "机房"} <= set(tokens)
