"""Issue 15 "Needs and voices", as a new user meets it: each observation of the issue reproduced on
the real database through the services the pages and the API call, and the labelled set's figures.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.analysis.conftest import MONDAY
from tests.analysis.labelled_set import adjusted_rand, gold_common_needs, load

IPV6 = [
    ("R1", 0, "IPv6 改造咨询：想了解我们现有网络要改哪些设备"),
    ("R2", 0, "希望贵司提供 IPv6 改造的咨询服务，上级要求年底前完成"),
    ("R3", 1, "Need consulting on IPv6 migration for our data centre network"),
]
OTHER_NEEDS = [
    ("R1", 1, "希望开放移动端报修，手机拍照即可提交故障"),
    ("R2", 1, "为新员工提供 Office 与 OA 系统培训"),
    ("R3", 0, "希望提供数据备份恢复演练报告"),
    ("R1", 0, "机房巡检报告电子化并可在线查阅"),
]
PRAISE = ["培训内容实用，同事反馈很好。", "工程师到场及时，处理专业。", "交付的文档规范完整。"]


def _run(db_session):
    from perception.analysis.services.text_run import run_text_analysis

    return run_text_analysis(db_session)


def _needs(db_session, weeks=1):
    from datetime import timedelta

    from perception.analysis.services.demand import common_and_emerging_needs

    return common_and_emerging_needs(db_session, MONDAY, MONDAY + timedelta(weeks=weeks))


def _keys(db_session, ids):
    from perception.core.models.facts import TextEntry

    return set(db_session.scalars(select(TextEntry.theme_key).where(TextEntry.id.in_(ids))))


def _rate(db_session, entry_ids, ratings, scale=(1.0, 5.0)):
    """The rating each feedback comment came with (as a weekly report entry writes it)."""
    from perception.core.models.facts import ExperienceObservation, TextEntry

    for entry_id, value in zip(entry_ids, ratings, strict=True):
        e = db_session.get(TextEntry, entry_id)
        db_session.add(
            ExperienceObservation(
                source=e.source,
                source_id=e.source_id,
                observed_on=e.observed_on,
                period_start=e.period_start,
                region_id=e.region_id,
                customer_id=e.customer_id,
                kind="rating",
                value=value,
                scale_min=scale[0],
                scale_max=scale[1],
            )
        )
    db_session.flush()


def test_ipv6_in_three_regions_is_a_common_need_naming_customers_and_regions(
    db_session, write_texts, three_regions
):
    ipv6 = write_texts(IPV6)
    write_texts(OTHER_NEEDS)
    _run(db_session)
    (key,) = _keys(db_session, ipv6)
    needs = {n.theme_key: n for n in _needs(db_session).common}
    assert key in needs
    need = needs[key]
    regions, customers = three_regions
    assert set(need.region_ids) == {r.id for r in regions.values()}
    assert len(need.customer_ids) == 3 and need.n_entries == 3
    assert {"ipv6", "改造", "咨询"} & set(need.label.split(" / "))


def test_a_split_with_the_seed_ipv6_takes_effect_on_the_next_run(db_session, write_texts):
    from perception.analysis.services.text_settings import merge_themes, split_theme

    ipv6 = write_texts(IPV6)
    backup = write_texts([("R1", 0, "每季度做一次数据备份恢复演练"), ("R2", 1, "备份恢复演练需要出报告")])
    _run(db_session)
    (ipv6_key,) = _keys(db_session, ipv6)
    (backup_key,) = _keys(db_session, backup)
    # A user merges the two (as a coarse run would have found them), then splits by seed.
    merge_themes(db_session, [backup_key, ipv6_key])
    _run(db_session)
    assert _keys(db_session, ipv6 + backup) == {backup_key}
    split_theme(db_session, backup_key, [["备份"], ["IPv6 改造"]])
    _run(db_session)
    assert _keys(db_session, backup) == {backup_key}
    (new_key,) = _keys(db_session, ipv6)
    assert new_key != backup_key
    assert new_key in {n.theme_key for n in _needs(db_session).common}
    _run(db_session)  # and it survives a re-run
    assert _keys(db_session, ipv6) == {new_key}


def test_praise_never_gathers_requirements_into_a_common_need(db_session, write_texts):
    # The demo's case: praise of a training in every region, four unrelated requirements.
    praise = write_texts(
        [
            (r, c, PRAISE[i % 3])
            for i, (r, c) in enumerate([(r, c) for r in ("R1", "R2", "R3") for c in (0, 1)] * 3)
        ],
        kind="feedback",
    )
    _rate(db_session, praise, [5.0] * len(praise))
    needs = write_texts(OTHER_NEEDS)
    _run(db_session)
    assert not _keys(db_session, praise) & _keys(db_session, needs)
    assert _needs(db_session).common == ()
    # Feedback themes are labelled by their words, without stop words.
    from perception.analysis.models import TextTheme

    for theme in db_session.scalars(select(TextTheme)):
        assert not {"day", "fix", "did", "的", "希望"} & set(theme.top_terms)


def test_chinese_and_english_wordings_of_one_need_share_a_theme_with_distinct_quotes(db_session, write_texts):
    from perception.analysis.models import TextTheme
    from perception.core.models.facts import TextEntry

    ids = write_texts(
        [
            ("R1", 0, "希望上线自助密码重置，忘记密码不用再打服务台电话"),
            ("R1", 1, "希望上线自助密码重置，忘记密码不用再打服务台电话。"),
            ("R2", 0, "希望上线自助密码重置！忘记密码不用再打服务台电话"),
            ("R2", 1, "Self-service password reset portal for domain accounts"),
            ("R3", 0, "员工经常忘记域账号密码，能否提供自助重置密码的平台"),
        ]
    )
    write_texts(OTHER_NEEDS)
    _run(db_session)
    (key,) = _keys(db_session, ids)
    theme = db_session.scalar(select(TextTheme).where(TextTheme.key == key))
    quoted = list(db_session.scalars(select(TextEntry.text).where(TextEntry.id.in_(theme.example_ids))))
    normalised = {q.strip("。！!").replace("！", "，") for q in quoted}
    assert len(normalised) == len(quoted) == 3  # three distinct sentences, not one three times
    assert theme.top_terms[:2] and set(theme.top_terms[:3]) & {"密码", "重置", "自助"}
    assert set(theme.label_in("en").split(" / ")) & {"password", "reset", "self service"}


def test_sentiment_out_of_the_box_from_ratings(db_session, write_texts):
    from perception.analysis.models import TextClassifierModel, TextLabel
    from perception.core.models.facts import TextEntry

    good = write_texts(
        [
            (r, c, t)
            for r, c, t in [
                ("R1", 0, "工程师到场及时，处理专业，非常满意"),
                ("R2", 0, "服务台接听很快，问题当场解决"),
                ("R3", 0, "响应很及时，半小时内工程师就到了"),
                ("R1", 1, "Quick response and a clear explanation, thank you"),
                ("R2", 1, "培训内容实用，同事反馈很好"),
                ("R3", 1, "交付的文档规范完整，值得表扬"),
            ]
        ],
        kind="feedback",
    )
    bad = write_texts(
        [
            (r, c, t)
            for r, c, t in [
                ("R1", 0, "报修后无人回电，只能反复催促"),
                ("R2", 0, "工程师迟到一个多小时，也没有提前通知"),
                ("R3", 0, "同一故障反复出现，处理不彻底"),
                ("R1", 1, "Nobody called back after I reported the outage"),
                ("R2", 1, "工程师态度很差，不耐烦"),
                ("R3", 1, "提交工单两天了还没人处理，太慢了"),
            ]
        ],
        kind="feedback",
    )
    _rate(db_session, good, [5, 4, 5, 4, 5, 4])
    _rate(db_session, bad, [1, 2, 1, 2, 1, 2])
    unrated = write_texts([("R1", 0, "服务台电话一直打不通，响应太慢")], kind="feedback")
    assert db_session.scalar(select(TextLabel.id)) is None  # nobody labelled anything
    _run(db_session)
    rows = {
        e.id: e for e in db_session.scalars(select(TextEntry).where(TextEntry.id.in_(good + bad + unrated)))
    }
    assert {rows[i].sentiment for i in good} == {"positive"} and {rows[i].sentiment for i in bad} == {
        "negative"
    }
    assert {rows[i].label_source for i in good + bad} == {"rating"}
    assert rows[unrated[0]].label_source == "model" and rows[unrated[0]].sentiment in {"negative", "positive"}
    card = db_session.scalar(select(TextClassifierModel).where(TextClassifierModel.target == "sentiment"))
    assert card.evaluation["n_from_ratings"] == 12 and card.evaluation["n_from_people"] == 0
    assert card.evaluation["n_distinct"] == 12 and card.evaluation["n_held_back"] >= 2
    assert 0 <= card.cv_accuracy <= 1 and card.baseline_accuracy == pytest.approx(0.5)


def test_evidence_links_hold_only_their_texts(db_session, write_texts, observe, catalog, org):
    from perception.analysis.services.evidence import evidence
    from perception.analysis.services.filters import parse_filters

    ipv6 = write_texts(IPV6)
    write_texts(OTHER_NEEDS)
    region = org["R1"]["region"]
    observe(region, catalog["DESK"], "rating", [1, 2, 3, 4, 5] * 20)
    observe(region, catalog["DESK"], "rating", [0, 1, 1, 0], scale=(0, 1))  # sampling confirmations
    _run(db_session)
    (key,) = _keys(db_session, ipv6)
    f = parse_filters(db_session, {"from": "2026-W10", "to": "2026-W10"}, None, today=MONDAY)
    theme = evidence(db_session, f, theme_key=key, text_kind="requirement")
    assert theme.total == 0 and theme.rows == ()  # no rating rows before the texts
    assert sorted(c.id for c in theme.comments) == sorted(ipv6) and theme.comments_total == 3
    low = evidence(db_session, f, kind="rating", low_only=True)
    assert low.total == 40 and {r.value for r in low.rows} <= {1.0, 2.0}
    assert all(r.scale_max == 5 for r in low.rows)  # no 0/1 confirmation among the low ratings


def test_labelled_set_figures_reach_the_targets():
    """The benchmark's figures on the labelled set (bench/bench_text_quality.py prints them)."""
    from perception.analysis.services.text_ratings import stratum, thresholds
    from scoring.text import Tokenizer, common_needs, discover_themes
    from scoring.text.classify import evaluate_classifier, rating_sentiment
    from tests.analysis.labelled_set import common_need_score

    texts = load()
    assert len(texts) >= 300 and {t.kind for t in texts} == {"requirement", "feedback", "dynamic"}
    tokenizer = Tokenizer()
    strata = [stratum(t.kind, rating_sentiment(t.rating, 1, 5) if t.rating else None) for t in texts]
    model = discover_themes(
        [t.text for t in texts],
        [t.id for t in texts],
        tokenizer,
        strata=strata,
        thresholds=thresholds(strata),
    )
    theme_of = model.theme_of()
    assert adjusted_rand([t.gold for t in texts], [theme_of[t.id] for t in texts]) >= 0.7
    found = common_needs(
        model.assignments,
        {t.id: t.customer for t in texts},
        {t.id: t.region for t in texts},
        {t.id: t.week if t.kind == "requirement" else None for t in texts},
        0,
    )
    score = common_need_score({n.theme_key: n.entry_ids for n in found}, texts, gold_common_needs(texts))
    assert score.precision >= 0.9 and score.recall >= 0.9
    rated = [t for t in texts if t.rating is not None]
    derived = [rating_sentiment(t.rating, 1, 5) or "" for t in rated]  # type: ignore[arg-type]
    report = evaluate_classifier([t.text for t in rated], derived, tokenizer, sentiment_cues=True)
    assert report.cv_balanced_accuracy >= 0.85


def test_an_opportunity_keeps_the_texts_it_was_made_from(db_session, write_texts):
    from perception.analysis.models import OpportunityKind
    from perception.analysis.services.evidence import evidence
    from perception.analysis.services.filters import parse_filters
    from perception.analysis.services.opportunities import create_from_need
    from perception.analysis.services.text_settings import split_theme

    ipv6 = write_texts(IPV6)
    write_texts(OTHER_NEEDS)
    _run(db_session)
    (key,) = _keys(db_session, ipv6)
    from datetime import timedelta

    opp = create_from_need(
        db_session,
        kind=OpportunityKind.COMMON,
        theme_key=key,
        period_start=MONDAY,
        period_end=MONDAY + timedelta(weeks=1),
        region_ids=None,
        created_by_id=None,
    )
    # Later the key goes to other texts: a split whose first group (keeping the key) is another
    # need's seed, and new texts of that need arrive.
    other = write_texts([(r, 0, "希望提供数据备份恢复演练和备份策略咨询") for r in ("R1", "R2")])
    split_theme(db_session, key, [["备份"], ["ipv6"]])
    _run(db_session)
    assert _keys(db_session, ipv6) != {key}
    f = parse_filters(db_session, {"from": "2026-W10", "to": "2026-W10"}, None, today=MONDAY)
    shown = evidence(db_session, f, text_refs=opp.entry_refs)
    assert sorted(c.id for c in shown.comments) == sorted(ipv6) and not set(other) & {
        c.id for c in shown.comments
    }
    assert shown.rows == ()


def test_a_comments_rating_label_agrees_with_rating_sentiment(db_session, write_texts):
    """Every scale a comment may come with, read in SQL as scoring.text.rating_sentiment reads it."""
    from perception.analysis.services.text_ratings import comment_ratings
    from perception.core.models.facts import TextEntry
    from scoring.text import rating_sentiment

    cases = (
        [(v, 1.0, 5.0) for v in range(1, 6)]
        + [(v, 0.0, 10.0) for v in range(11)]
        + [(0, 0.0, 1.0), (1, 0.0, 1.0)]
    )
    ids = write_texts([("R1", 0, f"评论 {i}") for i in range(len(cases))], kind="feedback")
    for entry_id, (value, low, high) in zip(ids, cases, strict=True):
        _rate(db_session, [entry_id], [value], scale=(low, high))
    rows = {e.id: e for e in db_session.query(TextEntry).filter(TextEntry.id.in_(ids))}
    got = comment_ratings(db_session, [(i, rows[i].source, rows[i].source_id, rows[i].kind) for i in ids])
    expected = {i: rating_sentiment(v, lo, hi) for i, (v, lo, hi) in zip(ids, cases, strict=True)}
    assert got == {i: label for i, label in expected.items() if label is not None}
