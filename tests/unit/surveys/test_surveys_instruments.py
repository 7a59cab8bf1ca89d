"""The built-in instruments load, round-trip, validate typical responses and have the right shape."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from werkzeug.datastructures import MultiDict

from surveys import (
    INSTRUMENT_NAMES,
    FeedbackDimension,
    QuestionType,
    ScoreKind,
    ServqualDimension,
    build_page_form,
    builtin_instruments,
    definition_fingerprint,
    dump_definition,
    extract_scores,
    instrument_source,
    load_definition,
    load_instrument,
    next_page,
    shown_pages,
    survey_stylesheet,
    validate_answers,
    visible_questions,
)

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_all_load_and_round_trip():
    instruments = builtin_instruments()
    assert (
        set(instruments)
        == set(INSTRUMENT_NAMES)
        == {"csat_transactional", "nps_relationship", "six_dimension_feedback", "servqual", "phone_callback"}
    )
    for name, questionnaire in instruments.items():
        assert questionnaire.id == name
        assert load_definition(dump_definition(questionnaire)) == questionnaire
        assert load_instrument(name) == questionnaire
        assert len(definition_fingerprint(questionnaire)) == 64


def test_unknown_instrument():
    with pytest.raises(KeyError):
        instrument_source("nope")


def _texts(questionnaire):
    yield questionnaire.title
    for page in questionnaire.pages:
        yield from (t for t in (page.title, page.description) if t)
        for question in page.questions:
            yield question.text
            yield from (c.text for c in question.choices)
            yield from (r.text for r in question.rows)


@pytest.mark.parametrize("name", INSTRUMENT_NAMES)
def test_texts_are_really_bilingual(name):
    for text in _texts(load_instrument(name)):
        assert HAN.search(text.zh), text
        assert not HAN.search(text.en), text


@pytest.mark.parametrize("name", INSTRUMENT_NAMES)
def test_every_page_builds_a_form_in_both_languages(name):
    questionnaire = load_instrument(name)
    for index in range(len(questionnaire.pages)):
        for lang in ("zh", "en"):
            form = build_page_form(questionnaire, index, lang)()
            for field in form.survey_fields():
                assert "<legend>" in field() or "<label" in field()


def test_servqual_has_22_pairs_over_the_five_dimensions():
    servqual = load_instrument("servqual")
    pairs = [q for q in servqual.questions() if q.type is QuestionType.SERVQUAL]
    assert len(pairs) == 22
    counts = Counter(q.tags.servqual_dimension for q in pairs)
    assert counts == {
        ServqualDimension.TANGIBLES: 4,
        ServqualDimension.RELIABILITY: 5,
        ServqualDimension.RESPONSIVENESS: 4,
        ServqualDimension.ASSURANCE: 4,
        ServqualDimension.EMPATHY: 5,
    }
    assert all((q.scale.min, q.scale.max) == (1, 7) and q.required for q in pairs)
    (importance,) = [q for q in servqual.questions() if q.type is QuestionType.CONSTANT_SUM]
    assert [row.tags.servqual_dimension for row in importance.rows] == list(ServqualDimension)
    assert importance.total == 100 and importance.required


def test_servqual_full_response_scores():
    servqual = load_instrument("servqual")
    answers = {}
    for i, question in enumerate(q for q in servqual.questions() if q.type is QuestionType.SERVQUAL):
        answers[question.id] = {"expectation": 7, "perception": 1 + i % 7}
    answers["importance"] = {
        "tangibles": 10,
        "reliability": 30,
        "responsiveness": 20,
        "assurance": 20,
        "empathy": 20,
    }
    assert validate_answers(servqual, answers) == {}
    kinds = Counter(item.kind for item in extract_scores(servqual, answers))
    assert kinds == {
        ScoreKind.SERVQUAL_EXPECTATION: 22,
        ScoreKind.SERVQUAL_PERCEPTION: 22,
        ScoreKind.SERVQUAL_IMPORTANCE: 5,
    }


def test_csat_low_score_asks_why():
    csat = load_instrument("csat_transactional")
    assert validate_answers(csat, {"csat": 5}) == {}
    assert set(validate_answers(csat, {"csat": 2})) == {"low_reasons"}
    assert validate_answers(csat, {"csat": 2, "low_reasons": ["slow_response"], "improve": "快一点"}) == {}
    assert [i.kind for i in extract_scores(csat, {"csat": 3, "ces": 6})] == [ScoreKind.CSAT, ScoreKind.CES]


def test_nps_relationship_has_the_six_dimensions():
    nps = load_instrument("nps_relationship")
    assert nps.question("nps").required
    rows = nps.question("dimensions").rows
    assert [row.tags.feedback_dimension for row in rows] == list(FeedbackDimension)
    items = extract_scores(nps, {"nps": 9, "dimensions": {"response_speed": 4, "training_effect": 2}})
    assert [(i.kind, i.feedback_dimension) for i in items] == [
        (ScoreKind.NPS, None),
        (ScoreKind.LIKERT, FeedbackDimension.RESPONSE_SPEED),
        (ScoreKind.LIKERT, FeedbackDimension.TRAINING_EFFECT),
    ]


def test_six_dimension_feedback_follow_up():
    feedback = load_instrument("six_dimension_feedback")
    ratings = [q for q in feedback.questions() if q.type is QuestionType.RATING]
    assert [q.tags.feedback_dimension for q in ratings] == list(FeedbackDimension)
    happy = {q.id: 5 for q in ratings}
    assert shown_pages(feedback, happy) == (0, 1)
    assert "low_detail" not in {q.id for q in visible_questions(feedback, happy)}
    unhappy = {**happy, "training_effect": 1}
    assert "low_detail" in {q.id for q in visible_questions(feedback, unhappy)}


def test_phone_callback_skips_everything_when_not_reached():
    script = load_instrument("phone_callback")
    assert next_page(script, {"reached": "no_answer"}, 0) is None
    assert set(validate_answers(script, {"reached": "call_back_later"})) == {"call_back_on"}
    reached = {"reached": "reached"}
    assert shown_pages(script, reached) == (0, 1, 2, 3)
    assert set(validate_answers(script, reached)) == {"resolved", "on_time", "csat"}
    answers = {**reached, "resolved": "no", "on_time": "yes", "csat": 2}
    assert set(validate_answers(script, answers)) == {"unresolved_detail"}
    answers |= {"unresolved_detail": "打印机仍然卡纸", "dimensions": {"staff_attitude": 5}}
    assert validate_answers(script, answers) == {}
    kinds = [(i.kind, i.feedback_dimension) for i in extract_scores(script, answers)]
    assert kinds == [(ScoreKind.CSAT, None), (ScoreKind.LIKERT, FeedbackDimension.STAFF_ATTITUDE)]


def test_phone_callback_form_walkthrough():
    script = load_instrument("phone_callback")
    first = build_page_form(script, 0, "zh")(MultiDict([("reached", "reached")]))
    assert first.validate()
    second = build_page_form(script, 1, "zh", answers={"reached": "reached"})
    form = second(MultiDict([("resolved", "no"), ("on_time", "yes"), ("csat", "3")]))
    assert not form.validate() and set(form.errors) == {"unresolved_detail"}


def test_stylesheet_ships_with_the_package():
    css = survey_stylesheet()
    assert ".survey-scale--row" in css and "min-height: 44px" in css
