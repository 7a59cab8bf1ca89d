"""The WTForms page-form builder: fields, validation mirroring validate_answers, accessible HTML."""

from __future__ import annotations

import json
import re

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form, StringField
from wtforms.validators import InputRequired

from surveys import (
    AnswersError,
    QuestionField,
    SurveyPageForm,
    build_page_form,
    form_data_to_answers,
    load_definition,
    read_page,
    validate_answers,
)


def submit(questionnaire, page, data, lang="zh", **kwargs):
    form_class = build_page_form(questionnaire, page, lang, **kwargs)
    form = form_class(MultiDict(data))
    return form, form.validate()


def test_one_field_per_question(questionnaire):
    form = build_page_form(questionnaire, 1, "en")()
    assert [f.name for f in form.survey_fields()] == [
        "matrix",
        "reliable",
        "channel",
        "comment",
        "users",
        "share",
        "visit",
        "weights",
    ]
    assert all(isinstance(f, QuestionField) for f in form)
    assert form.channel.label.text == "Channel"


def test_valid_page_and_answers_back(questionnaire):
    form, ok = submit(
        questionnaire,
        0,
        [
            ("csat", "2"),
            ("why_low", "slow"),
            ("why_low", "other"),
            ("why_low.other", "没人接"),
            ("nps", "10"),
            ("speed", ""),
        ],
    )
    assert ok, form.errors
    assert form_data_to_answers(questionnaire, 0, form) == {
        "csat": 2,
        "why_low": ["slow", "other"],
        "why_low.other": "没人接",
        "nps": 10,
    }


def test_errors_in_the_forms_language(questionnaire):
    form, ok = submit(questionnaire, 0, [("csat", "1"), ("nps", "11")])
    assert not ok
    assert form.errors == {"why_low": ["请回答此题。"], "nps": ["请选择 0 到 10 之间的分数。"]}
    form, ok = submit(questionnaire, 0, [], lang="en")
    assert form.errors == {"csat": ["Please answer this question."]}


def test_compound_fields(questionnaire):
    data = [("matrix.polite", "4"), ("reliable.expectation", "6"), ("channel", "other")]
    form, ok = submit(questionnaire, 1, data, lang="en")
    assert not ok
    assert form.errors == {
        "matrix": ["Skilled: Please choose a score for this item."],
        "reliable": ["Perception: Please rate both your expectation and your perception."],
        "channel": ["Please describe your “other” answer."],
    }
    assert set(form.reliable.messages) == {"reliable.perception"}
    data = [
        ("matrix.polite", "4"),
        ("matrix.skilled", "5"),
        ("reliable.expectation", "6"),
        ("reliable.perception", "3"),
        ("channel", "other"),
        ("channel.other", "微信"),
        ("comment", " ok "),
        ("users", "30"),
        ("share", "0.4"),
        ("visit", "2024-07-01"),
    ]
    form, ok = submit(questionnaire, 1, data)
    assert ok, form.errors
    assert form_data_to_answers(questionnaire, 1, form) == {
        "matrix": {"polite": 4, "skilled": 5},
        "reliable": {"expectation": 6, "perception": 3},
        "channel": "other",
        "channel.other": "微信",
        "comment": "ok",
        "users": 30,
        "share": 0.4,
        "visit": "2024-07-01",
    }


@pytest.mark.parametrize(
    "data",
    [
        [],
        [("csat", "3")],
        [("csat", "0")],
        [("csat", "2")],
        [("csat", "2"), ("why_low", "rude")],
        [("csat", "2"), ("why_low", "rude"), ("why_low", "slow"), ("why_low", "broken")],
        [("csat", "2"), ("why_low", "other")],
        [("csat", "5"), ("why_low", "bogus")],
        [("csat", "5"), ("nps", "x"), ("ces", "7")],
        [("csat", "5"), ("speed", "6")],
    ],
)
def test_form_validity_mirrors_validate_answers(questionnaire, data):
    form, ok = submit(questionnaire, 0, data)
    answers = {}
    for key, value in data:
        if key == "why_low":
            answers.setdefault(key, []).append(value)
        else:
            answers[key] = value
    expected = validate_answers(questionnaire, answers, page=0)
    assert ok is (not expected)
    assert set(form.errors) == {key.partition(".")[0] for key in expected}


def test_invalid_form_cannot_be_converted(questionnaire):
    form, ok = submit(questionnaire, 0, [("csat", "9")])
    assert not ok
    with pytest.raises(AnswersError):
        form_data_to_answers(questionnaire, 0, form)
    with pytest.raises(ValueError, match="page 0"):
        form_data_to_answers(questionnaire, 1, form)


def test_prior_answers_decide_cross_page_conditions(questionnaire):
    hidden = build_page_form(questionnaire, 2, "zh", answers={"channel": "web"})()
    assert hidden.survey_fields() == []
    shown = build_page_form(questionnaire, 2, "zh", answers={"channel": "phone"})()
    assert [f.name for f in shown.survey_fields()] == ["phone_wait"]
    assert shown.phone_wait.html_required and shown.phone_wait.show_if is None
    assert not shown.validate() and shown.errors == {"phone_wait": ["请回答此题。"]}


def test_prefill_from_saved_answers(questionnaire):
    saved = {"csat": 2, "why_low": ["other"], "why_low.other": "太慢", "matrix": {"polite": 3}}
    page0 = build_page_form(questionnaire, 0, "zh", answers=saved)()
    html = page0.csat() + page0.why_low()
    assert 'value="2" checked' in html
    assert 'value="other" checked' in html and 'value="太慢"' in html
    page1 = build_page_form(questionnaire, 1, "zh", answers=saved)()
    assert 'name="matrix.polite" value="3" checked' in page1.matrix()
    # prior answers to this page are replaced by what is submitted
    form = build_page_form(questionnaire, 0, "zh", answers=saved)(MultiDict([("csat", "5")]))
    assert form.validate()
    assert form_data_to_answers(questionnaire, 0, form) == {"csat": 5}


def test_rating_renders_as_an_accessible_radio_group(questionnaire):
    form = build_page_form(questionnaire, 0, "zh")()
    html = str(form.csat())
    assert html.count("<fieldset") == 1 and "<legend>" in html
    assert re.search(
        r"<legend><span[^>]*>满意度</span><span[^>]*aria-hidden=\"true\">\*</span>"
        r"<span class=\"survey-visually-hidden\">（必答）</span></legend>",
        html,
    )
    for point in range(1, 6):
        assert f'<label class="survey-option survey-scale-option" for="csat-{point}">' in html
        assert f'<input type="radio" id="csat-{point}" name="csat" value="{point}" required>' in html
    assert (
        '<span class="survey-option-number">1</span><span class="survey-visually-hidden"> 非常不满意</span>'
        in html
    )
    assert (
        '<span class="survey-option-number">5</span><span class="survey-visually-hidden"> 非常满意</span>'
        in html
    )
    assert (
        '<div class="survey-anchors" aria-hidden="true"><span class="survey-anchor-min">非常不满意</span>'
        in html
    )


def test_nps_is_one_row_of_eleven(questionnaire):
    html = str(build_page_form(questionnaire, 0, "en")().nps())
    assert "survey-scale--11 survey-scale--row" in html
    assert html.count('type="radio"') == 11 and 'value="0"' in html and 'value="10"' in html
    assert "Not at all likely" in html and "Extremely likely" in html
    assert " required" not in html  # optional


def test_help_and_errors_are_described(questionnaire):
    form, _ = submit(questionnaire, 0, [("csat", "1"), ("speed", "9")], lang="en")
    speed = str(form.speed())
    assert 'aria-describedby="speed-help speed-errors"' in speed and 'aria-invalid="true"' in speed
    assert '<p class="survey-help" id="speed-help">Last time</p>' in speed
    assert (
        '<ul class="survey-errors" id="speed-errors"><li>Please choose a score from 1 to 5.</li></ul>'
        in speed
    )


def test_same_page_condition_is_left_to_the_browser(questionnaire):
    form = build_page_form(questionnaire, 0, "zh")()
    html = str(form.why_low())
    show_if = json.loads(form.why_low.show_if)
    assert show_if == {"question": "csat", "op": "<=", "value": 2}
    assert "data-show-if=" in html and "&#34;csat&#34;" in html
    assert " required" not in html  # may be hidden, so the browser must not insist
    assert 'type="checkbox"' in html


def test_choice_with_other_text_input(questionnaire):
    html = str(build_page_form(questionnaire, 1, "zh")().channel())
    assert '<input type="radio" id="channel-phone" name="channel" value="phone">' in html
    assert "<span>别的渠道</span>" in html
    assert (
        '<label for="channel-other-text" class="survey-visually-hidden">请注明“其他”的具体内容</label>'
        in html
    )
    assert '<input type="text" id="channel-other-text" name="channel.other" value="" maxlength="500"' in html


def test_matrix_and_servqual_render_nested_groups(questionnaire):
    form = build_page_form(questionnaire, 1, "en")()
    matrix = str(form.matrix())
    assert matrix.count("<fieldset") == 3 and "<legend><span>Polite</span></legend>" in matrix
    assert 'name="matrix.skilled" value="5" required' in matrix
    pair = str(form.reliable())
    assert "Expectation: how far an excellent IT service provider should do this" in pair
    assert 'name="reliable.perception" value="7" required' in pair


def test_single_inputs_have_labels(questionnaire):
    form = build_page_form(questionnaire, 1, "zh")()
    assert '<label for="comment" class="survey-label">' in str(form.comment())
    assert 'type="text"' in str(form.comment()) and 'maxlength="20"' in str(form.comment())
    users = str(form.users())
    assert 'type="number"' in users and 'min="1"' in users and 'max="500"' in users and 'step="1"' in users
    assert '<span class="survey-unit">人</span>' in users
    assert 'step="any"' in str(form.share()) and 'min="0"' in str(form.share())
    visit = str(form.visit())
    assert 'type="date"' in visit and 'min="2024-01-01"' in visit and 'max="2024-12-31"' in visit


def test_text_is_escaped():
    questionnaire = load_definition(
        {
            "schema_version": 1,
            "id": "x",
            "version": "1",
            "title": {"zh": "x", "en": "x"},
            "pages": [
                {
                    "id": "p",
                    "questions": [
                        {
                            "id": "a",
                            "type": "text",
                            "text": {"zh": "<script>alert(1)</script>", "en": "a & b"},
                        }
                    ],
                }
            ],
        }
    )
    form = build_page_form(questionnaire, 0, "zh")(MultiDict([("a", '"><b>')]))
    html = str(form.a())
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>" not in html and "&lt;b&gt;" in html


def test_base_class_fields_and_validators_are_kept(questionnaire):
    class Base(Form):
        token = StringField(validators=[InputRequired()])

    form_class = build_page_form(questionnaire, 0, "zh", base=Base)
    assert issubclass(form_class, Base) and issubclass(form_class, SurveyPageForm)
    form = form_class(MultiDict([("csat", "5")]))
    assert not form.validate() and set(form.errors) == {"token"}
    form = form_class(MultiDict([("csat", "5"), ("token", "t")]))
    assert form.validate()
    assert "token" not in [f.name for f in form.survey_fields()]


def test_flask_wtf_base(questionnaire):
    flask = pytest.importorskip("flask")
    flask_wtf = pytest.importorskip("flask_wtf")
    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY="test", WTF_CSRF_ENABLED=True)
    with app.test_request_context("/", method="POST", data={"csat": "4"}):
        form = build_page_form(questionnaire, 0, "zh", base=flask_wtf.FlaskForm)()
        assert not form.validate_on_submit()
        assert "csrf_token" in form.errors  # CSRF comes from the app's base
        assert "csat" not in form.errors


def test_bad_arguments(questionnaire):
    with pytest.raises(ValueError, match="lang"):
        build_page_form(questionnaire, 0, "fr")  # type: ignore[arg-type]
    with pytest.raises(IndexError):
        build_page_form(questionnaire, 9, "zh")


READ_CASES = [
    (0, [], None),
    (0, [("csat", "3")], None),
    (0, [("csat", " 4 ")], None),
    (0, [("csat", "0")], None),
    (0, [("csat", "2"), ("why_low", "rude"), ("why_low", "slow"), ("why_low", "broken")], None),
    (0, [("csat", "2"), ("why_low", "other")], None),
    (0, [("csat", "2"), ("why_low", "other"), ("why_low.other", "没人接")], None),
    (0, [("csat", "5"), ("why_low", "bogus")], None),
    (0, [("csat", "5"), ("nps", "x"), ("ces", "7")], None),
    (0, [("csat", "5"), ("speed", "6"), ("unknown", "1")], None),
    (0, [("csat", "5")], {"csat": 2, "why_low": ["other"], "why_low.other": "太慢"}),
    (1, [("matrix.polite", "4"), ("matrix.skilled", "9"), ("reliable.expectation", "6")], None),
    (
        1,
        [
            ("matrix.polite", "4"),
            ("matrix.skilled", "5"),
            ("reliable.expectation", "6"),
            ("reliable.perception", "3"),
            ("channel", "other"),
            ("channel.other", "微信"),
            ("comment", " ok "),
            ("users", "30"),
            ("share", "0.4"),
            ("visit", "2024-07-01"),
        ],
        None,
    ),  # fmt: skip
    (1, [("users", "3.5"), ("visit", "2024-13-01"), ("share", "x")], None),
    (2, [], {"channel": "phone"}),
    (2, [("phone_wait", "5")], {"channel": "phone"}),
]


@pytest.mark.parametrize(("page", "data", "saved"), READ_CASES)
def test_read_page_says_what_the_bound_form_says(questionnaire, page, data, saved):
    """The POST reads a page without binding a form (one pass of the validator): it must accept
    exactly what the form accepts and return exactly what form_data_to_answers returns."""
    form_class = build_page_form(questionnaire, page, "en", answers=saved)
    form = form_class(MultiDict(data))
    valid = form.validate()
    read = read_page(form_class, MultiDict(data))
    assert read.valid is valid
    assert read.answers == form.survey_answers()
    if valid:
        assert read.clean == form_data_to_answers(questionnaire, page, form)
    else:
        assert read.clean is None and form.errors


def test_read_page_needs_a_built_form(questionnaire):
    with pytest.raises(ValueError, match="build_page_form"):
        read_page(Form, MultiDict())
