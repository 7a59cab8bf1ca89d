"""The constant-sum question ("share 100 points"): definition, validation, scoring and its markup."""

from __future__ import annotations

import copy
import re

import pytest
from werkzeug.datastructures import MultiDict

from surveys import (
    DefinitionError,
    ScoreKind,
    ServqualDimension,
    build_page_form,
    dump_definition,
    extract_scores,
    form_data_to_answers,
    load_definition,
    load_instrument,
    normalise_answers,
    validate_answers,
)

DIMENSIONS = [d.value for d in ServqualDimension]
SHARE = {"tangibles": 10, "reliability": 30, "responsiveness": 20, "assurance": 20, "empathy": 20}


def t(text: str) -> dict[str, str]:
    return {"zh": text, "en": text}


def doc(**question: object) -> dict[str, object]:
    base = {"id": "weights", "type": "constant_sum", "text": t("Share"), "required": True}
    base.setdefault("rows", [{"id": d, "text": t(d), "servqual_dimension": d} for d in DIMENSIONS])
    base.update(question)
    return {
        "schema_version": 1,
        "id": "w",
        "version": "1",
        "title": t("w"),
        "pages": [{"id": "p", "questions": [base]}],
    }


def codes(errors):
    return {key: [m.code for m in found] for key, found in errors.items()}


@pytest.fixture(scope="module")
def servqual():
    return load_instrument("servqual")


def test_definition_defaults_and_round_trip():
    q = load_definition(doc())
    weights = q.question("weights")
    assert weights.total == 100 and [r.id for r in weights.rows] == DIMENSIONS
    assert load_definition(dump_definition(q)) == q
    assert "total" not in dump_definition(q)["pages"][0]["questions"][0]  # the default stays implicit
    ten = load_definition(doc(total=10, unit=t("票")))
    assert ten.question("weights").total == 10 and load_definition(dump_definition(ten)) == ten


@pytest.mark.parametrize(
    ("change", "path", "fragment"),
    [
        ({"rows": [{"id": "a", "text": t("a")}]}, "pages[0].questions[0].rows", "at least 2"),
        ({"total": 0}, "pages[0].questions[0].total", "at least 1"),
        ({"total": 99.5}, "pages[0].questions[0].total", "integer"),
        (
            {"rows": [{"id": "a", "text": t("a"), "servqual_dimension": "empathy"},
                      {"id": "b", "text": t("b"), "servqual_dimension": "empathy"}]},
            "pages[0].questions[0].rows[1].servqual_dimension",
            "another row",
        ),
        ({"scale": {"min": 1, "max": 5}}, "pages[0].questions[0].scale", ""),
    ],
)  # fmt: skip
def test_definition_errors(change, path, fragment):
    with pytest.raises(DefinitionError) as caught:
        load_definition(doc(**change))
    found = {issue.path: issue.message for issue in caught.value.errors}
    assert path in found and fragment in found[path].en and found[path].zh


def test_valid_allocation_is_stored_with_every_row(servqual):
    assert validate_answers(servqual, {"importance": SHARE}, page=5) == {}
    # Blank rows count 0 once another row has points; strings from a form are coerced.
    given = {"reliability": "60", "empathy": "40", "tangibles": ""}
    assert validate_answers(servqual, {"importance": given}, page=5) == {}
    assert normalise_answers(servqual, {"importance": given})["importance"] == {
        "tangibles": 0, "reliability": 60, "responsiveness": 0, "assurance": 0, "empathy": 40,
    }  # fmt: skip


def test_a_wrong_sum_names_the_total_and_what_was_entered(servqual):
    errors = validate_answers(servqual, {"importance": {**SHARE, "empathy": 10}}, page=5)
    assert codes(errors) == {"importance": ["total_mismatch"]}
    message = errors["importance"][0]
    assert "100" in message.zh and "90" in message.zh and "100" in message.en and "90" in message.en
    over = validate_answers(servqual, {"importance": {**SHARE, "empathy": 50}}, page=5)
    assert "130" in over["importance"][0].en
    with pytest.raises(ValueError, match="add up"):
        normalise_answers(servqual, {"importance": {**SHARE, "empathy": 10}})


@pytest.mark.parametrize("bad", [-5, "12.5", "ten", 101, True])
def test_a_bad_row_is_named(servqual, bad):
    errors = validate_answers(servqual, {"importance": {**SHARE, "assurance": bad}}, page=5)
    assert codes(errors) == {"importance.assurance": ["points_out_of_range"]}
    assert "0 到 100" in errors["importance.assurance"][0].zh


def test_missing_unknown_and_malformed(servqual):
    assert codes(validate_answers(servqual, {}, page=5)) == {"importance": ["required"]}
    assert codes(validate_answers(servqual, {"importance": {"tangibles": "", "empathy": " "}}, page=5)) == {
        "importance": ["required"]
    }
    assert codes(validate_answers(servqual, {"importance": {**SHARE, "price": 5}}, page=5)) == {
        "importance.price": ["unknown_item"]
    }
    assert codes(validate_answers(servqual, {"importance": 100}, page=5)) == {
        "importance": ["invalid_format"]
    }


def test_rows_with_a_servqual_dimension_score_as_importance():
    rows = [*doc()["pages"][0]["questions"][0]["rows"], {"id": "price", "text": t("price")}]  # type: ignore[index]
    q = load_definition(doc(rows=rows))
    items = extract_scores(q, {"weights": {**SHARE, "tangibles": 5, "price": 5}})
    assert {(i.servqual_dimension.value, i.value) for i in items} == {
        ("tangibles", 5), ("reliability", 30), ("responsiveness", 20), ("assurance", 20), ("empathy", 20),
    }  # fmt: skip
    assert all(
        i.kind is ScoreKind.SERVQUAL_IMPORTANCE and (i.scale_min, i.scale_max) == (0, 100) for i in items
    )
    assert {i.row_id for i in items} == set(DIMENSIONS)  # the unscored "price" row gives none


def test_markup_is_a_labelled_group_with_a_live_total(servqual):
    form = build_page_form(servqual, 5, "zh")()
    html = str(form.importance())
    assert html.count("<fieldset") == 1 and "<legend>" in html
    for dim in DIMENSIONS:
        assert f'<label for="importance-{dim}">' in html
        box = re.search(rf'<input type="number" id="importance-{dim}"[^>]*>', html)
        assert box is not None
        assert 'name="importance.' + dim + '"' in box.group(0)
        assert 'min="0" max="100" step="1" inputmode="numeric"' in box.group(0)
        assert "importance-sum" in box.group(0)  # each box is described by the running total
        assert "required" not in box.group(0)  # a blank box counts 0
    assert 'aria-live="polite"' in html and 'data-total="100"' in html
    assert '合计：<output for="importance-tangibles' in html and ">0</output> / 100 分" in html


def test_a_posted_form_round_trips_and_errors_name_the_row(servqual):
    data = [(f"importance.{d}", str(v)) for d, v in SHARE.items()]
    form = build_page_form(servqual, 5, "en")(MultiDict(data))
    assert form.validate(), form.errors
    assert form_data_to_answers(servqual, 5, form) == {"importance": SHARE}
    bad = copy.copy(data)
    bad[0] = ("importance.tangibles", "-10")
    form = build_page_form(servqual, 5, "en")(MultiDict(bad))
    assert not form.validate()
    (error,) = form.importance.errors
    assert error.startswith("Tangibles: tools") and "whole number of points from 0 to 100" in error
    html = str(form.importance())
    assert 'id="importance-tangibles" name="importance.tangibles" value="-10"' in html
    assert re.search(r'id="importance-tangibles"[^>]*aria-invalid="true"', html)
    short = build_page_form(servqual, 5, "en")(MultiDict(data[:4]))
    assert not short.validate()
    assert short.importance.errors == ["The points must add up to exactly 100; they now add up to 80."]
    assert '<p class="survey-sum survey-sum--off"' in str(short.importance())
    assert ">80</output> / 100 points" in str(short.importance())


def test_the_blank_block_is_rendered_once_and_answers_per_form(servqual):
    """The respondent page keeps the markup without respondent values per form class (page_cache
    design): the unanswered block is the class's, an answered one is the respondent's own."""
    form_class = build_page_form(servqual, 5, "en")
    blank = form_class().survey_html()
    assert form_class._survey_blank_html["importance"] in blank
    assert form_class().survey_html() == blank
    mine = form_class(MultiDict([("importance.reliability", "100")]))
    html = str(mine.survey_html())
    assert 'name="importance.reliability" value="100"' in html and ">100</output>" in html
    assert form_class._survey_blank_html["importance"] in form_class().survey_html()  # cache untouched
