"""Classification of feedback comments by dimension and by sentiment (scoring.text.classify).

The labelled set below was written for these tests: 80 feedback comments (56 Chinese, 24 English)
on four of the six feedback dimensions, each also labelled positive / neutral / negative.
Out-of-fold precision and recall are checked against scikit-learn's own metric functions, and
fold accuracies against folds recomputed here with `StratifiedKFold`.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from scoring.text import TextClassifier, Tokenizer, cross_validated_accuracy, review_message, train_classifier
from scoring.text.sentiment_cues import cue_counts

P, U, N = "positive", "neutral", "negative"
FEEDBACK = [
    # response speed (服务响应速度)
    ("response", P, "报修后十分钟内就有工程师回电话，响应非常及时。"),
    ("response", N, "打了三次服务台电话都没人接，响应太慢了。"),
    ("response", N, "工单提交两个小时后才有人联系我们。"),
    ("response", P, "夜间报障的响应速度比以前快了很多。"),
    ("response", U, "响应时间基本符合合同约定的三十分钟。"),
    ("response", N, "周末找不到人，拖到周一才开始处理。"),
    ("response", P, "紧急故障电话一打通，工程师马上远程接入，很及时。"),
    ("response", N, "邮件报修后一直没有回复，等了一整天。"),
    ("response", U, "服务台接听速度还可以，一般响两声就接了。"),
    ("response", U, "希望响应再快一点，现在平均要等半小时。"),
    ("response", P, "提交工单后很快收到短信确认，响应速度满意。"),
    ("response", N, "高峰期排队时间太长，迟迟没人响应。"),
    ("response", N, "工程师到场时间比承诺的晚了两个小时。"),
    ("response", U, "这个月的响应时效和上个月差不多。"),
    ("response", P, "The service desk answered within two rings, very quick response."),
    ("response", N, "Nobody responded to our ticket for over four hours."),
    ("response", U, "Response time was within the 30-minute SLA this month."),
    ("response", N, "We waited all weekend before anyone replied to the outage report."),
    ("response", P, "Great, the engineer called back within ten minutes."),
    ("response", U, "Response speed is about the same as last quarter."),
    # fault-handling effect (故障处理效果)
    ("fault", P, "服务器宕机问题当天就彻底解决了，处理效果很好。"),
    ("fault", N, "打印机修了三次还是卡纸，问题根本没解决。"),
    ("fault", N, "网络故障排查了两天才找到原因。"),
    ("fault", P, "工程师一次就把邮件系统故障修好了。"),
    ("fault", N, "同样的故障上周刚修过，这周又出现了。"),
    ("fault", P, "数据库故障恢复后业务一直运行正常。"),
    ("fault", P, "系统修复后再也没有出现报错。"),
    ("fault", P, "硬盘故障更换后数据没有丢失，处理得当。"),
    ("fault", U, "重启之后问题暂时消失，根本原因还没有找到。"),
    ("fault", N, "同一个故障反复报修，一直修不好。"),
    ("fault", U, "故障处理过程比较规范，结果可以接受。"),
    ("fault", N, "交换机故障导致全楼断网，恢复用了六个小时。"),
    ("fault", P, "这次VPN故障处理得很彻底，之后再没断过。"),
    ("fault", U, "故障单已经关闭，目前在观察系统运行情况。"),
    ("fault", P, "The server crash was fixed the same day and has not come back."),
    ("fault", N, "The printer was repaired three times and still jams."),
    ("fault", U, "The root cause of the network outage is still unknown."),
    ("fault", N, "The same database error keeps coming back after every fix."),
    ("fault", P, "The email failure was resolved properly, everything works now."),
    ("fault", U, "The fault ticket is closed and we are monitoring the system."),
    # staff attitude (人员服务态度)
    ("attitude", P, "驻场工程师态度很好，耐心解答我们的问题。"),
    ("attitude", N, "客服说话很不耐烦，还挂我们电话。"),
    ("attitude", P, "工程师上门时很有礼貌，走之前还把现场收拾干净。"),
    ("attitude", N, "服务人员态度冷淡，问什么都说不知道。"),
    ("attitude", P, "小王服务热情周到，大家都很认可。"),
    ("attitude", N, "工程师推卸责任，说是我们自己操作不当。"),
    ("attitude", U, "接线员态度一般，没有特别好也没有不好。"),
    ("attitude", P, "服务台人员沟通很耐心，一步一步指导我们操作。"),
    ("attitude", N, "现场人员态度生硬，对我们的提问爱答不理。"),
    ("attitude", P, "感谢李工加班帮我们处理，服务态度非常好。"),
    ("attitude", U, "工程师比较专业，态度还算客气。"),
    ("attitude", N, "服务人员对用户缺乏尊重，语气很差。"),
    ("attitude", U, "人员服务态度与以往持平。"),
    ("attitude", P, "驻场人员很负责，主动跟进问题。"),
    ("attitude", P, "The on-site engineer was friendly and patient with our staff."),
    ("attitude", N, "The support agent was rude and hung up on us."),
    ("attitude", U, "Staff were polite but not especially helpful."),
    ("attitude", N, "The technician blamed our users instead of helping."),
    ("attitude", P, "Thanks to Mr. Li for his warm and attentive service."),
    ("attitude", U, "Staff attitude was acceptable, nothing special."),
    # training effect (培训效果)
    ("training", P, "新系统培训讲得很清楚，同事们很快就上手了。"),
    ("training", N, "培训时间太短，很多功能没讲到。"),
    ("training", N, "培训讲师照着课件念，效果很差。"),
    ("training", P, "安全意识培训内容实用，大家收获很大。"),
    ("training", N, "培训资料只有英文版，基层员工看不懂。"),
    ("training", U, "本季度完成了两次运维培训，参加人数二十人。"),
    ("training", P, "操作培训之后报修量明显减少了。"),
    ("training", N, "培训课安排在上班时间，很多人没法参加。"),
    ("training", U, "希望下次培训增加实际操作练习。"),
    ("training", U, "培训考核通过率百分之八十。"),
    ("training", P, "讲师很专业，培训互动很好。"),
    ("training", N, "培训内容和我们实际使用的版本不一致。"),
    ("training", U, "新员工入职培训按计划进行。"),
    ("training", P, "培训后的视频回放很有帮助。"),
    ("training", P, "The training on the new ticketing system was clear and useful."),
    ("training", N, "The training session was too short and skipped key features."),
    ("training", U, "Two training sessions were held this quarter with twenty attendees."),
    ("training", N, "The trainer just read the slides, we learned nothing."),
    ("training", P, "After the training our staff could solve simple issues themselves."),
    ("training", U, "Training materials were sent by email before the course."),
]
TEXTS = [text for _, _, text in FEEDBACK]
DIMENSIONS = [dimension for dimension, _, _ in FEEDBACK]
SENTIMENTS = [sentiment for _, sentiment, _ in FEEDBACK]
TOKENIZER = Tokenizer()


@pytest.fixture(scope="module")
def dimension_cv():  # type: ignore[no-untyped-def]
    return cross_validated_accuracy(TEXTS, DIMENSIONS, TOKENIZER, folds=5)


def test_dimension_accuracy_clearly_above_chance(dimension_cv) -> None:  # type: ignore[no-untyped-def]
    report = dimension_cv
    assert report.n == 80 and report.folds == 5
    assert report.baseline_accuracy == pytest.approx(0.25)
    assert report.accuracy_mean >= 0.7, report


def test_cv_figures_match_sklearn_metrics(dimension_cv) -> None:  # type: ignore[no-untyped-def]
    report = dimension_cv
    y = np.array(DIMENSIONS)
    predicted = np.array(report.predicted)
    labels = sorted(set(DIMENSIONS))
    precision, recall, _, support = precision_recall_fscore_support(
        y, predicted, labels=labels, zero_division=0
    )
    assert [c.label for c in report.per_class] == labels
    assert [c.precision for c in report.per_class] == pytest.approx(list(precision))
    assert [c.recall for c in report.per_class] == pytest.approx(list(recall))
    assert [c.support for c in report.per_class] == list(support)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0).split(np.zeros(len(y)), y)
    accuracies = [accuracy_score(y[test], predicted[test]) for _, test in folds]
    assert report.fold_accuracies == pytest.approx(accuracies)
    assert report.accuracy_mean == pytest.approx(np.mean(accuracies))
    assert report.accuracy_std == pytest.approx(np.std(accuracies))


def test_sentiment_accuracy_clearly_above_chance() -> None:
    # The cue lexicon and these sentences share an author, so the figure is optimistic; without
    # the cues the TF-IDF model alone reaches only about 0.44 on 80 sentences.
    report = cross_validated_accuracy(TEXTS, SENTIMENTS, TOKENIZER, folds=5, sentiment_cues=True)
    shares = [SENTIMENTS.count(label) / len(SENTIMENTS) for label in (P, U, N)]
    assert report.baseline_accuracy == pytest.approx(max(shares))
    assert report.accuracy_mean >= report.baseline_accuracy + 0.25, report


def test_sentiment_cues_count_and_flip_negations() -> None:
    assert cue_counts("工程师很耐心，响应及时") == (2, 0)
    assert cue_counts("响应不及时，态度冷淡") == (0, 2)
    assert cue_counts("The engineer was not helpful and rude") == (0, 2)
    assert cue_counts("硬盘更换后数据没有丢失") == (1, 0)


def test_predict_review_queue_and_round_trip() -> None:
    classifier = train_classifier(TEXTS, DIMENSIONS, TOKENIZER, review_threshold=0.5)
    new = [
        "工程师接电话的速度太慢，半天没人响应",
        "The trainer explained everything clearly, the course was useful",
        "你好",
    ]
    predictions = classifier.predict(new)
    assert [label for label, _ in predictions[:2]] == ["response", "training"]
    proba = classifier.predict_proba(new)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    for (label, confidence), row in zip(predictions, proba, strict=True):
        assert confidence == pytest.approx(row.max())
        assert label == classifier.labels[int(row.argmax())]
    queue = classifier.review_queue(new, ["n1", "n2", "n3"])
    assert "n3" in [item.entry_id for item in queue]  # a greeting has no dimension
    assert [item.confidence for item in queue] == sorted(item.confidence for item in queue)
    assert all(item.confidence < 0.5 for item in queue)
    assert "复核" in review_message(queue[0]).zh
    restored = TextClassifier.from_bytes(classifier.to_bytes())
    assert restored.predict(new) == predictions
    assert restored.labels == classifier.labels
    with pytest.raises(ValueError, match="header"):
        TextClassifier.from_bytes(b"not a model")


def test_too_few_texts_per_label_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 5 texts"):
        cross_validated_accuracy(TEXTS[:24], DIMENSIONS[:24], TOKENIZER, folds=5)
    with pytest.raises(ValueError, match="two distinct labels"):
        train_classifier(TEXTS[:3], ["a", "a", "a"], TOKENIZER)
