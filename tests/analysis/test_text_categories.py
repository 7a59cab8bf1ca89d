"""Categories out of the box: a new organisation gets a category (kind of need, dimension of a
comment) for its texts before anyone labels one, from what is known about each text (the form
field's dimension, the dimension a low rating was on, seed words), and a model card for it.

The wording test trains on the labelled set's derived labels only and scores the model on
`data/category_texts.tsv`, 68 texts written apart from the seed words in other wordings (a need
no seed word names: "换成国产数据库", "异地副本", "讲一次"), against their gold category.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.analysis.labelled_set import load

FRESH = Path(__file__).with_name("data") / "category_texts.tsv"

#: The labelled set's gold needs and topics as categories (its praise/complaint topics are the
#: feedback dimension they are about; "neutral_ok" and the dynamics name no category).
GOLD_CATEGORY = {
    "ipv6": "need_consulting",
    "xinchuang": "need_consulting",
    "cloud": "need_consulting",
    "network": "need_consulting",
    "dengbao": "need_security",
    "security": "need_security",
    "mobile": "need_self_service",
    "password": "need_self_service",
    "helpdesk": "need_support_hours",
    "onsite": "need_support_hours",
    "report": "need_reporting",
    "monitoring": "need_reporting",
    "inspection": "need_reporting",
    "wifi": "need_equipment",
    "video": "need_equipment",
    "spares": "need_equipment",
    "printer": "need_equipment",
    "asset": "need_equipment",
    "email": "need_equipment",
    "backup": "need_backup",
    "training": "need_training",
    "slow_response": "response_speed",
    "praise_response": "response_speed",
    "recurring": "fault_handling",
    "praise_training": "training_effect",
    "praise_docs": "deliverable_quality",
    "attitude": "staff_attitude",
    "conformity": "service_conformity",
}


def test_derived_category_reads_the_field_then_the_low_rating_then_seed_words():
    from scoring.text.categories import default_categories, derived_category, seed_category

    codes = {c.code for c in default_categories()}
    assert {"response_speed", "fault_handling", "staff_attitude", "need_consulting", "need_backup"} <= codes
    assert all(c.name_zh and c.name_en and c.seeds for c in default_categories())
    text = "等了很久才有人回电"
    assert derived_category(text, "voice", field_dimension="staff_attitude").origin == "field"
    assert derived_category(text, "voice", field_dimension="staff_attitude").category == "staff_attitude"
    assert derived_category(text, "voice", low_dimension="fault_handling").category == "fault_handling"
    seeded = derived_category(text, "voice")
    assert (seeded.category, seeded.origin) == ("response_speed", "seed")
    # Requirements never take a comment's dimension; seed words of two categories teach nothing.
    assert derived_category("希望做 IPv6 改造咨询", "need", field_dimension="response_speed").category == (
        "need_consulting"
    )
    assert seed_category("希望提供备份恢复的培训", "need") is None
    # Latin seed words match whole words: "app" is not in "approval".
    assert seed_category("Please add a mobile app", "need") == "need_self_service"
    assert seed_category("Changes without approval", "need") is None


def test_category_from_derived_labels_alone_recognises_other_wordings():
    from sklearn.metrics import balanced_accuracy_score

    from scoring.text import Tokenizer, train_classifier
    from scoring.text.categories import derived_category

    with FRESH.open(encoding="utf-8", newline="") as handle:
        fresh = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    rows = [r for r in load() if r.gold in GOLD_CATEGORY and r.kind in ("requirement", "feedback")]
    tokenizer = Tokenizer()
    scores = {}
    for family, kind in (("need", "requirement"), ("voice", "feedback")):
        # Comments are read as survey comments with no field dimension: seed words only.
        derived = [(r, derived_category(r.text, family)) for r in rows if r.kind == kind]
        labelled = [(r.text, d.category) for r, d in derived if d is not None]
        # The seed words are right where they speak (checked against the gold grouping).
        right = sum(GOLD_CATEGORY[r.gold] == d.category for r, d in derived if d is not None)
        assert right / len(labelled) >= 0.95
        model = train_classifier([t for t, _ in labelled], [c for _, c in labelled], tokenizer)
        test = [f for f in fresh if (f["kind"] == "requirement") == (family == "need")]
        predicted = [label for label, _ in model.predict([f["text"] for f in test])]
        scores[family] = balanced_accuracy_score([f["category"] for f in test], predicted)
    # Guessing scores 1/8 (needs) and 1/6 (comments); on wordings the seed words never name the
    # model trained on derived labels alone reaches 0.52 and 0.60 (recorded in the report).
    assert scores["need"] >= 0.45 and scores["voice"] >= 0.45


def test_the_model_card_scores_category_on_texts_without_their_seed_words():
    """Scored on the seed-labelled texts as they are, the model re-finds its seed words (0.94);
    with them blanked out it scores what it knows of the other words (0.56), close to what it
    does on wordings no seed word names (0.52 above): the card shows the honest figure."""
    from scoring.text import Tokenizer
    from scoring.text.categories import SeedBlanker, default_categories, derived_category
    from scoring.text.classify import evaluate_classifier

    rows = [r for r in load() if r.gold in GOLD_CATEGORY and r.kind == "requirement"]
    labelled = [(r.text, d.category) for r in rows if (d := derived_category(r.text, "need"))]
    texts, labels = [t for t, _ in labelled], [c for _, c in labelled]
    plain = evaluate_classifier(texts, labels, Tokenizer())
    blanked = evaluate_classifier(texts, labels, Tokenizer(), test_view=SeedBlanker(default_categories()))
    assert plain.cv_balanced_accuracy >= 0.9
    assert 1 / 8 < blanked.cv_balanced_accuracy <= 0.75
    assert SeedBlanker(default_categories())("希望提供 IPv6 改造咨询").strip() == "希望提供"


def _observation(db_session, entry, dimension, value):
    from perception.core.models.facts import ExperienceObservation

    db_session.add(
        ExperienceObservation(
            source=entry.source,
            source_id=entry.source_id,
            observed_on=entry.observed_on,
            period_start=entry.period_start,
            region_id=entry.region_id,
            customer_id=entry.customer_id,
            kind="rating",
            dimension=dimension,
            item=dimension,
            value=value,
            scale_min=1.0,
            scale_max=5.0,
        )
    )


def test_a_new_organisation_gets_categories_and_a_model_card_without_labels(db_session, write_texts):
    from perception.analysis.models import TextCategory, TextClassifierModel, TextLabel
    from perception.analysis.services.text_run import run_text_analysis
    from perception.core.models.facts import TextEntry

    needs = [r for r in load() if r.kind == "requirement" and r.gold in GOLD_CATEGORY]
    regions = ("R1", "R2", "R3")
    need_ids = write_texts([(regions[i % 3], i % 2, r.text) for i, r in enumerate(needs)])
    # A weekly report's feedback entry on the "staff attitude" field, with no seed word in it.
    field = write_texts([("R1", 0, "小李这周来了两次，说话有点冲")], kind="feedback")
    db_session.get(TextEntry, field[0]).dimension = "staff_attitude"
    # A survey comment with no field dimension whose response rated fault handling low only.
    comment = write_texts(
        [("R2", 0, "The laptop was returned with the same fault still there")], kind="feedback"
    )
    entry = db_session.get(TextEntry, comment[0])
    entry.kind = "survey_comment"
    entry.source = "survey"
    _observation(db_session, entry, "fault_handling", 1.0)
    _observation(db_session, entry, "response_speed", 5.0)
    # A comment no field, rating or seed word labels, while the model has learnt needs only (one
    # text per dimension is too few to learn from): left without a category, never called a need.
    loose = write_texts([("R3", 1, "这周来的人说话很冲，让人不舒服")], kind="survey_comment")
    db_session.flush()
    assert (
        db_session.scalar(select(TextLabel.id)) is None and db_session.scalar(select(TextCategory.id)) is None
    )

    run_text_analysis(db_session)

    codes = set(db_session.scalars(select(TextCategory.code)))
    assert {"need_consulting", "response_speed"} <= codes
    rows = {e.id: e for e in db_session.scalars(select(TextEntry))}
    assert rows[field[0]].category == "staff_attitude"
    assert rows[comment[0]].category == "fault_handling"
    assert rows[loose[0]].category is None
    got = [rows[i].category for i in need_ids]
    right = sum(GOLD_CATEGORY[r.gold] == c for r, c in zip(needs, got, strict=True))
    assert all(c is not None and c.startswith("need_") for c in got) and right / len(needs) >= 0.85
    card = db_session.scalar(select(TextClassifierModel).where(TextClassifierModel.target == "category"))
    assert card.evaluation["n_from_people"] == 0 and card.evaluation["n_from_ratings"] > 100
    assert card.evaluation["n_held_back"] > 0 and card.evaluation["held_back"] is not None
    assert 1 / len(card.labels) < card.cv_accuracy <= 1
    assert card.baseline_accuracy == pytest.approx(1 / len(card.labels))


def test_model_card_shows_the_category_figures(login_as, db_session, write_texts):
    from perception.analysis.services.text_run import run_text_analysis

    write_texts(
        [(("R1", "R2", "R3")[i % 3], i % 2, r.text) for i, r in enumerate(load()) if r.kind == "requirement"]
    )
    run_text_analysis(db_session)
    analyst = login_as("analyst")
    for lang, derived in (("en", "Labels derived"), ("zh-CN", "推导")):
        page = analyst.get("/analysis/demand?from=2026-W10&to=2026-W13", headers={"Accept-Language": lang})
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and 'data-testid="cv-category"' in html and derived in html
