"""The text pages as a user meets them over HTTP: the review queue groups duplicates, labels them in
bulk and shows words instead of codes; evidence links open exactly their texts; the model card."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import post_form

PERIOD = "from=2026-W10&to=2026-W13"
REPEATED = "工程师到场及时，处理专业"


def _queue_data(db_session, write_texts):
    from perception.analysis.models import TextCategory
    from perception.analysis.services.text_labels import label_entry
    from perception.analysis.services.text_run import run_text_analysis
    from perception.analysis.services.text_settings import SettingsUpdate, update_settings
    from perception.core.models.facts import TextEntry

    db_session.add_all(
        [
            TextCategory(code="response", name_zh="响应速度", name_en="Response speed"),
            TextCategory(code="training", name_zh="培训效果", name_en="Training effect"),
        ]
    )
    db_session.flush()
    labelled = write_texts(
        [
            ("R1", 0, "服务台响应很快"),
            ("R2", 0, "报修后很快有人回电"),
            ("R3", 0, "响应速度太慢了"),
            ("R1", 1, "培训内容实用"),
            ("R2", 1, "培训讲得很清楚"),
            ("R3", 1, "培训时间太短"),
        ],
        kind="feedback",
    )
    for entry_id, category in zip(labelled, ["response"] * 3 + ["training"] * 3, strict=True):
        label_entry(
            db_session, db_session.get(TextEntry, entry_id), category=category, sentiment=None, user_id=None
        )
    repeated = write_texts(
        [
            (r, c, REPEATED + ("。" if i % 2 else "！"))
            for i, (r, c) in enumerate([("R1", 0), ("R2", 1), ("R3", 0)] * 2)
        ],
        kind="feedback",
    )
    update_settings(db_session, SettingsUpdate(review_threshold=0.99))
    run_text_analysis(db_session)
    return repeated


def test_review_queue_groups_duplicates_labels_in_bulk_and_shows_words(login_as, db_session, write_texts):
    from perception.analysis.models import TextLabel
    from perception.core.models.facts import TextEntry

    repeated = _queue_data(db_session, write_texts)
    analyst = login_as("analyst")
    html = analyst.get(f"/analysis/demand/review?{PERIOD}").get_data(as_text=True)
    queue = html[html.index('data-testid="review-queue"') :]
    assert queue.count(REPEATED) == 1  # six writings of one sentence, one row
    assert ">6<" in queue
    assert ("Response speed" in queue or "Training effect" in queue) and ">response<" not in queue
    form = {"entry_ids": [str(i) for i in repeated], "category": "response", "sentiment": "positive"}
    response = post_form(analyst, "/analysis/demand/review/label", form, follow_redirects=True)
    assert "6 texts labelled" in response.get_data(as_text=True)
    db_session.expire_all()
    rows = list(db_session.scalars(select(TextEntry).where(TextEntry.id.in_(repeated))))
    assert {(e.category, e.sentiment, e.label_source) for e in rows} == {("response", "positive", "user")}
    assert db_session.scalar(select(TextLabel.id).where(TextLabel.text_entry_id == repeated[0])) is not None
    after = analyst.get(f"/analysis/demand/review?{PERIOD}").get_data(as_text=True)
    assert REPEATED not in after[after.index('data-testid="review-queue"') :]


def test_bulk_label_outside_the_users_regions_stores_nothing(
    login_as, db_session, write_texts, three_regions
):
    from perception.analysis.models import TextLabel

    repeated = _queue_data(db_session, write_texts)
    before = db_session.scalar(select(TextLabel.id).order_by(TextLabel.id.desc()).limit(1))
    regions, _ = three_regions
    bound = login_as("analyst", username="analyst_r1", region="R1")
    bound.user.region_id = regions["R1"].id
    db_session.flush()
    form = {"entry_ids": [str(i) for i in repeated], "category": "response"}
    html = post_form(bound, "/analysis/demand/review/label", form, follow_redirects=True).get_data(
        as_text=True
    )
    assert "outside your regions" in html
    assert db_session.scalar(select(TextLabel.id).order_by(TextLabel.id.desc()).limit(1)) == before


def test_theme_link_opens_its_texts_first_and_the_model_card_shows(
    login_as, db_session, write_texts, observe, catalog, org
):
    from perception.analysis.services.text_run import run_text_analysis
    from perception.core.models.facts import TextEntry

    ipv6 = write_texts(
        [
            ("R1", 0, "IPv6 改造咨询：想了解我们现有网络要改哪些设备"),
            ("R2", 0, "希望贵司提供 IPv6 改造的咨询服务"),
            ("R3", 1, "Need consulting on IPv6 migration"),
        ]
    )
    observe(org["R1"]["region"], catalog["DESK"], "rating", [1, 2, 3, 4, 5] * 40)
    run_text_analysis(db_session)
    key = db_session.scalar(select(TextEntry.theme_key).where(TextEntry.id == ipv6[0]))
    analyst = login_as("analyst")
    html = analyst.get(f"/analysis/evidence?{PERIOD}&theme={key}").get_data(as_text=True)
    assert "IPv6 改造咨询" in html and "Need consulting on IPv6 migration" in html
    # Only the theme's texts: none of the 200 rating rows of the period comes before them.
    assert "answers match" not in html and "Texts (3)" in html and "Requirement" in html
    demand = analyst.get(f"/analysis/demand?{PERIOD}").get_data(as_text=True)
    assert 'data-testid="model-card"' in demand and "Balanced accuracy" in demand
    # The last run's time is local, never UTC (issue 17: "times in UTC beside local deadlines").
    assert "UTC" not in demand
