"""Text analysis on real Chinese (and some English) requirements: themes, decisions that persist
across re-runs, a common need spanning three regions, emerging needs, and classification whose
cross-validated accuracy is checked against scikit-learn's own cross_val_score."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.analysis.conftest import MONDAY

# (region, customer index, text)
MOBILE = [
    ("R1", 0, "希望能支持微信报修，现在只能打电话给服务台，很不方便"),
    ("R1", 1, "能否提供手机端报修功能，员工在外面也能随时提交报修"),
    ("R2", 0, "建议开发报修小程序，用手机拍照上传故障现象"),
    ("R2", 1, "我们希望通过微信公众号提交报修并查看处理进度"),
    ("R3", 0, "希望增加移动端报修入口，手机上就能报修"),
    ("R3", 1, "手机报修功能什么时候能上线？希望尽快支持微信报修"),
    ("R1", 0, "建议微信报修后能自动通知处理进度"),
]
ONSITE = [
    ("R1", 0, "希望驻场工程师能固定下来，不要经常换人"),
    ("R2", 0, "建议增派一名驻场工程师，现场支持人手不够"),
    ("R2", 1, "希望在我们机房安排驻场工程师，提供现场支持"),
    ("R1", 1, "驻场工程师技术水平有待提高，希望派经验丰富的工程师驻场"),
    ("R2", 0, "需要驻场工程师周末也能在岗"),
]
SPARES = [
    ("R1", 0, "备件更换太慢了，硬盘坏了等了一周才换"),
    ("R1", 1, "希望在本地备件库存常用备件，缩短更换时间"),
    ("R1", 0, "服务器备件到货慢，影响业务恢复"),
    ("R1", 1, "备件更换周期太长，希望承诺备件到货时间"),
    ("R1", 0, "备件库存不足，更换硬盘要等很久"),
]
REPORTS = [
    ("R2", 0, "希望每月提供服务报告，包括工单数量和处理时长"),
    ("R2", 1, "需要月报统计故障类型和响应时间"),
    ("R1", 0, "希望服务报告中增加满意度调查结果"),
    ("R2", 0, "Monthly service report should include SLA attainment and ticket statistics"),
]


def _run(db_session):
    from perception.analysis.services.text_run import run_text_analysis

    return run_text_analysis(db_session)


def _theme_of(db_session, entry_ids):
    from perception.core.models.facts import TextEntry

    return set(db_session.scalars(select(TextEntry.theme_key).where(TextEntry.id.in_(entry_ids))))


def test_theme_spanning_three_regions_is_a_common_need(db_session, write_texts, period_args):
    from perception.analysis.services.demand import common_and_emerging_needs
    from perception.analysis.services.filters import parse_filters

    mobile = write_texts(MOBILE)
    spares = write_texts(SPARES)
    write_texts(ONSITE + REPORTS)
    result = _run(db_session)
    assert result.n_entries == len(MOBILE + ONSITE + SPARES + REPORTS) and result.n_themes >= 3
    mobile_themes = _theme_of(db_session, mobile)
    assert len(mobile_themes) == 1  # all the mobile-repair requirements share one theme
    (mobile_key,) = mobile_themes
    f = parse_filters(db_session, period_args, None, today=MONDAY)
    needs = common_and_emerging_needs(db_session, f.start, f.end)
    by_key = {n.theme_key: n for n in needs.common}
    assert mobile_key in by_key
    need = by_key[mobile_key]
    assert need.n_regions == 3 and need.n_customers == 6 and need.n_entries == len(MOBILE)
    # Needs are counted over personalised requirements: no feedback text here, so no need there.
    assert common_and_emerging_needs(db_session, f.start, f.end, kinds=("feedback",)).common == ()
    # Spare parts are raised only in R1: not a common need.
    assert not _theme_of(db_session, spares) & set(by_key)
    assert all(n.n_regions >= 3 and n.n_customers >= 3 for n in needs.common)


def test_decisions_persist_across_reruns(db_session, write_texts):
    from perception.analysis.models import TextTheme
    from perception.analysis.services.text_settings import merge_themes, rename_theme

    mobile = write_texts(MOBILE)
    onsite = write_texts(ONSITE)
    write_texts(SPARES + REPORTS)
    _run(db_session)
    (mobile_key,) = _theme_of(db_session, mobile)
    rename_theme(db_session, mobile_key, "移动端报修")
    write_texts([("R3", 0, "请支持在手机上报修，并且可以查看工单进度")], week=1)
    _run(db_session)
    assert _theme_of(db_session, mobile) == {mobile_key}
    theme = db_session.scalar(select(TextTheme).where(TextTheme.key == mobile_key))
    assert theme.name == "移动端报修"
    # Merge the on-site theme into the mobile one; after the re-run both sets share the key.
    (onsite_key,) = _theme_of(db_session, onsite)
    assert onsite_key != mobile_key
    merge_themes(db_session, [mobile_key, onsite_key])
    _run(db_session)
    assert _theme_of(db_session, mobile + onsite) == {mobile_key}


def test_emerging_need_against_previous_period(db_session, write_texts):
    from perception.analysis.services.demand import common_and_emerging_needs

    # Previous 4 weeks (weeks -4..-1): mostly spare parts and reports, one mobile request.
    write_texts(SPARES + REPORTS + ONSITE + MOBILE[:1], week=-4)
    mobile_now = write_texts(MOBILE[1:], week=0)
    write_texts(SPARES[:1], week=1)
    _run(db_session)
    (key,) = _theme_of(db_session, mobile_now)
    needs = common_and_emerging_needs(db_session, MONDAY, MONDAY + timedelta(weeks=4))
    rows = {r.theme_key: r for r in needs.emerging}
    assert key in rows
    row = rows[key]
    from scipy.stats import fisher_exact

    # One-sided Fisher exact test (Agresti 2013, 3.5.1) on [[now, rest now], [before, rest before]].
    _, p = fisher_exact(
        [[row.count, row.total - row.count], [row.previous_count, row.previous_total - row.previous_count]],
        alternative="greater",
    )
    assert row.p_value == pytest.approx(p)


def test_classifier_cross_validation_review_queue_and_corrections(db_session, write_texts, period_args):
    import numpy as np
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    from perception.analysis.models import TextCategory, TextClassifierModel, TextLabel
    from perception.analysis.services.filters import parse_filters
    from perception.analysis.services.text_labels import classifier_status, label_entry, review_queue
    from perception.analysis.services.text_settings import tokenizer
    from perception.core.models.facts import TextEntry
    from scoring.text.classify import _pipeline

    for code, zh, en in (
        ("mobile", "移动端", "Mobile"),
        ("onsite", "驻场", "On-site"),
        ("spares", "备件", "Spares"),
    ):
        db_session.add(TextCategory(code=code, name_zh=zh, name_en=en))
    db_session.flush()
    # This organisation labels in its own categories only: the built-in ones are retired, so no
    # derived label joins the people's (the run keeps a retired category retired).
    from perception.analysis.services.text_categories import ensure_builtin_categories

    ensure_builtin_categories(db_session)
    for category in db_session.scalars(select(TextCategory)):
        category.active = category.code in ("mobile", "onsite", "spares")
    groups = {"mobile": write_texts(MOBILE), "onsite": write_texts(ONSITE), "spares": write_texts(SPARES)}
    write_texts(REPORTS)
    for category, ids in groups.items():
        for entry_id in ids[:4]:
            entry = db_session.get(TextEntry, entry_id)
            label_entry(db_session, entry, category=category, sentiment=None, user_id=None)
    _run(db_session)
    stored = db_session.scalar(select(TextClassifierModel).where(TextClassifierModel.target == "category"))
    # 12 distinct labels, 4 per category: a stratified fifth (3) is held back, never trained on;
    # the other 9 are cross-validated in 3 folds.
    assert stored.n_labelled == 12 and stored.folds == 3
    assert stored.evaluation["n_held_back"] == 3 and stored.evaluation["n_distinct"] == 12
    # Reference: scikit-learn's train_test_split, cross_val_score and balanced_accuracy_score with
    # the same pipeline and the same splits, in label order as the run reads them.
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import train_test_split

    labels = db_session.execute(select(TextLabel.text, TextLabel.category).order_by(TextLabel.id)).all()
    texts = np.array([t for t, _ in labels], dtype=object)
    y = np.array([c for _, c in labels])
    train, test = train_test_split(np.arange(12), test_size=0.2, stratify=y, random_state=0)
    reference = cross_val_score(
        _pipeline(tokenizer(db_session), 10.0, 0, False),
        texts[train],
        y[train],
        cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=0),
        scoring="balanced_accuracy",
    )
    assert stored.cv_accuracy == pytest.approx(reference.mean())
    held = _pipeline(tokenizer(db_session), 10.0, 0, False).fit(list(texts[train]), y[train])
    expected = balanced_accuracy_score(y[test], held.predict(list(texts[test])))
    assert stored.evaluation["held_back"] == pytest.approx(expected)
    assert stored.baseline_accuracy == pytest.approx(1 / 3)
    assert classifier_status(db_session)["category"].cv_accuracy == stored.cv_accuracy
    # Unlabelled entries get a model label with a confidence; the labelled keep the user's.
    unlabelled = db_session.get(TextEntry, groups["mobile"][5])
    assert unlabelled.label_source == "model" and 0 < unlabelled.confidence <= 1
    assert db_session.get(TextEntry, groups["mobile"][0]).label_source == "user"
    # Low confidence goes to the review queue; a correction becomes training data.
    from perception.analysis.services.text_settings import SettingsUpdate, update_settings

    update_settings(db_session, SettingsUpdate(review_threshold=0.99))
    f = parse_filters(db_session, period_args, None, today=MONDAY)
    queue = review_queue(db_session, f)
    assert queue and all(e.label_source == "model" for e in queue)
    assert [e.confidence for e in queue] == sorted(e.confidence for e in queue)
    before = db_session.scalar(select(TextLabel.id).order_by(TextLabel.id.desc()).limit(1))
    label_entry(db_session, queue[0], category="spares", sentiment="negative", user_id=None)
    assert queue[0].label_source == "user" and queue[0].category == "spares"
    newest = db_session.scalar(select(TextLabel).order_by(TextLabel.id.desc()).limit(1))
    assert newest.id != before and newest.category == "spares" and newest.text == queue[0].text
    assert queue[0] not in review_queue(db_session, f)


def test_bad_label_is_refused_and_nothing_stored(db_session, write_texts):
    from perception.analysis.models import TextLabel
    from perception.analysis.services.text_labels import label_entry
    from perception.analysis.services.text_settings import TextAnalysisError
    from perception.core.models.facts import TextEntry

    (entry_id,) = write_texts(MOBILE[:1])
    with pytest.raises(TextAnalysisError) as info:
        label_entry(
            db_session, db_session.get(TextEntry, entry_id), category="nope", sentiment=None, user_id=None
        )
    assert info.value.field == "category" and "类别" in info.value.zh
    assert db_session.scalar(select(TextLabel.id)) is None
