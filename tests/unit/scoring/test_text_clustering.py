"""Near-duplicates, strata, sampled rounds, class-based TF-IDF labels, rating-derived sentiment and the
classifier's evaluation on distinct labels, each against a hand-worked case or scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from scoring.text import Tokenizer, evaluate_classifier, rating_sentiment
from scoring.text.classify import distinct_labelled
from scoring.text.clustering import cluster_texts
from scoring.text.themes import class_tfidf

TOKENIZER = Tokenizer()


def test_near_duplicates_are_one_unit_and_strata_stay_apart() -> None:
    tokens = [
        ["ipv6", "改造", "咨询"],
        ["ipv6", "改造", "咨询"],  # the same sentence written twice
        ["ipv6", "咨询", "改造", "方案"],
        ["培训", "内容", "实用"],
        ["ipv6", "改造", "咨询"],  # same words, but a comment, not a requirement
        [],
    ]
    strata = ["need", "need", "need", "voice", "voice", "need"]
    result = cluster_texts(tokens, strata, min_size=2)
    assert result.unit_of[0] == result.unit_of[1] != result.unit_of[4]
    assert result.unit_sizes[result.unit_of[0]] == 2
    assert result.labels[0] == result.labels[1] == result.labels[2] >= 0
    assert result.labels[4] == -1 and result.labels[3] == -1  # alone in its stratum: unthemed
    assert result.labels[5] == -1 and result.unit_of[5] == -1  # no tokens


def test_sampled_rounds_give_the_same_grouping_as_one_pass() -> None:
    rng = np.random.default_rng(3)
    needs = [["ipv6", "改造", "咨询"], ["密码", "重置", "自助"], ["备份", "恢复", "演练"], ["无线", "覆盖"]]
    tokens, gold = [], []
    for i in range(240):
        g = int(rng.integers(len(needs)))
        tokens.append([*needs[g], f"细节{i}"])
        gold.append(g)
    whole = cluster_texts(tokens, sample_size=10_000)
    rounds = cluster_texts(tokens, sample_size=40, join_similarity=0.3)
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(gold, whole.labels) == pytest.approx(1.0)
    assert adjusted_rand_score(gold, rounds.labels) > 0.95


def test_class_tfidf_matches_a_hand_worked_case() -> None:
    # Two themes over terms (a, b, c): theme 0 = units 0 and 1 (unit 1 written twice), theme 1 = unit 2.
    counts = sp.csr_matrix(np.array([[2.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 3.0]]))
    sizes = np.array([1, 2, 1])
    weights = class_tfidf(counts, [np.array([0, 1]), np.array([2])], sizes)
    # theme 0 counts: a=2, b=1+2=3, c=0 (total 5); theme 1: a=0, b=1, c=3 (total 4); A = 4.5
    # f: a=2, b=4, c=3.  w = tf * ln(1 + A / f)
    expected = np.array(
        [
            [2 / 5 * math.log(1 + 4.5 / 2), 3 / 5 * math.log(1 + 4.5 / 4), 0.0],
            [0.0, 1 / 4 * math.log(1 + 4.5 / 4), 3 / 4 * math.log(1 + 4.5 / 3)],
        ]
    )
    assert weights == pytest.approx(expected)
    assert class_tfidf(counts, [], sizes).shape == (0, 3)


@pytest.mark.parametrize(
    ("value", "low", "high", "expected"),
    [
        (1, 1, 5, "negative"),
        (2, 1, 5, "negative"),
        (3, 1, 5, "neutral"),
        (4, 1, 5, "positive"),
        (5, 1, 5, "positive"),
        (0, 0, 1, None),  # a yes/no confirmation says nothing about feelings
        (1, 0, 1, None),
        (6, 0, 10, "negative"),  # NPS detractor
        (8, 0, 10, "neutral"),
        (9, 0, 10, "positive"),
        (1, 1, 3, "negative"),
        (2, 1, 3, "neutral"),
    ],
)
def test_rating_sentiment(value: float, low: float, high: float, expected: str | None) -> None:
    assert rating_sentiment(value, low, high) == expected


def test_distinct_labels_count_once_and_take_the_majority() -> None:
    texts = ["服务很好。", "服务很好！", "服务 很好", "太慢了", "太慢了", "Great"]
    labels = ["positive", "positive", "negative", "negative", "negative", "positive"]
    distinct, chosen = distinct_labelled(texts, labels)
    assert distinct == ["服务很好。", "太慢了", "Great"]
    assert chosen == ["positive", "negative", "positive"]


def test_evaluation_uses_distinct_texts_and_matches_scikit_learn() -> None:
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split

    from scoring.text.classify import _pipeline

    good = ["响应很快", "工程师很专业", "非常满意", "问题当场解决", "服务态度好", "点赞"]
    bad = ["响应太慢", "没人处理", "态度很差", "问题反复出现", "迟到很久", "很失望"]
    texts = good + bad + good  # the repeats must neither train nor test twice
    labels = ["positive"] * 6 + ["negative"] * 6 + ["positive"] * 6
    report = evaluate_classifier(texts, labels, TOKENIZER, folds=3)
    assert report.n_labels_given == 18 and report.n_distinct == 12 and report.n_held_back == 3
    x = np.array(good + bad, dtype=object)
    y = np.array(["positive"] * 6 + ["negative"] * 6)
    train, test = train_test_split(np.arange(12), test_size=0.2, stratify=y, random_state=0)
    expected = cross_val_score(
        _pipeline(TOKENIZER, 10.0, 0, False),
        x[train],
        y[train],
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
        scoring="balanced_accuracy",
    )
    assert report.cv_balanced_accuracy == pytest.approx(expected.mean())
    held = _pipeline(TOKENIZER, 10.0, 0, False).fit(list(x[train]), y[train])
    assert report.held_back_balanced_accuracy == pytest.approx(
        balanced_accuracy_score(y[test], held.predict(list(x[test])))
    )
    with pytest.raises(ValueError, match="two distinct"):
        evaluate_classifier(["好", "好", "差"], ["positive", "positive", "negative"], TOKENIZER)


def test_labels_read_in_the_users_language() -> None:
    from scoring.text.themes import label_terms

    terms = ("备份", "演练", "quarter", "恢复")
    english = tuple(TOKENIZER.english_of(t) for t in terms)
    assert label_terms(terms, english, "zh") == "备份 / 演练 / 恢复"  # "quarter" is no Chinese label
    assert label_terms(terms, english, "en") == "backup / drill / quarter"
    assert label_terms(("ipv6", "改造", "咨询"), (), "zh") == "ipv6 / 改造 / 咨询"  # codes read as they are
    assert label_terms(("quarter", "weekly"), (), "zh") == "quarter / weekly"  # nothing else to say
