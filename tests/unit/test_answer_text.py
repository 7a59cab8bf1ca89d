"""Stored answers read as words (issue 17): the follow-up page showed a Python dict, choice values
("slow_response", "reached", "yes") and raw scale points."""

from __future__ import annotations

from surveys.answer_text import answer_text
from surveys.instruments import load_instrument


def _question(instrument: str, question_id: str):
    return next(q for q in load_instrument(instrument).questions() if q.id == question_id)


def test_choices_read_as_their_labels_in_each_language():
    reasons = _question("csat_transactional", "low_reasons")
    assert "slow_response" not in answer_text(reasons, ["slow_response", "not_fixed"], "zh")
    assert "、" in answer_text(reasons, ["slow_response", "not_fixed"], "zh")
    reached = _question("phone_callback", "reached")
    assert answer_text(reached, "reached", "en") != "reached"
    resolved = _question("phone_callback", "resolved")
    assert answer_text(resolved, "yes", "zh") not in ("yes", "")


def test_scales_dicts_and_empties_read_as_text():
    speed = _question("six_dimension_feedback", "response_speed")
    assert answer_text(speed, 4, "en") == "4 / 5"
    names = {q.id: q.text for q in load_instrument("six_dimension_feedback").questions()}
    text = answer_text(speed, {"response_speed": 3, "staff_attitude": 5}, "en", names)
    assert "{" not in text and "response_speed" not in text and f"{speed.text.en}: 3 / 5" in text
    assert answer_text(speed, None, "zh") == "—" and answer_text(speed, True, "zh") == "是"
