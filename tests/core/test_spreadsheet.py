"""Formula-injection protection shared by every export (OWASP CSV Injection)."""

from __future__ import annotations

import pytest

from perception.core.spreadsheet import neutralise


@pytest.mark.parametrize("text", ["=SUM(A1)", "+1", "-2+3", "@cmd", "\tx", "\rx"])
def test_formula_text_is_quoted(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["普通文本", "a=b", "", 5, -3.5, None, True])
def test_other_values_pass_unchanged(value):
    assert neutralise(value) == value


def test_kpi_report_csv_neutralises_imported_text():
    from perception.kpi.services.report_csv import _cell

    assert _cell('=HYPERLINK("http://x")').startswith("'=")
    assert _cell(-1.5) == "-1.50" and _cell(None) == ""


def test_collection_export_neutralises_tab_and_cr():
    import csv
    import io

    from perception.collection.services.consolidation import to_csv

    rows = list(csv.reader(io.StringIO(to_csv([["\t=1+1", "\r@x", "ok"]]).decode("utf-8-sig"), newline="")))
    assert rows == [["'\t=1+1", "'\r@x", "ok"]]


# Excel and the Chinese/Japanese input methods fold full-width and small forms to ASCII, so each
# of these starts a formula as surely as "=" (issue 18: the guard let a full-width ＝ through).
VARIANT_PREFIXES = ["＝", "＋", "－", "＠", "﹦", "﹢", "﹣", "﹫", "⁼", "₌", "⁺", "₊"]


@pytest.mark.parametrize("prefix", VARIANT_PREFIXES)
def test_full_width_and_variant_prefixes_are_quoted(prefix):
    text = prefix + 'HYPERLINK("http://x","y")'
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("hidden", ["\u200b", "\ufeff", "\u200e", "\u2060"])
def test_an_invisible_character_in_front_hides_nothing(hidden):
    assert neutralise(hidden + "＝1+1") == "'" + hidden + "＝1+1"
    assert neutralise(hidden + "=1+1") == "'" + hidden + "=1+1"


@pytest.mark.parametrize("value", ["（一）说明", "５分", "−3 是减号而非公式", "Ａ级", "\u200b普通"])
def test_full_width_text_that_is_no_formula_passes(value):
    assert neutralise(value) == value


def test_every_export_quotes_a_full_width_formula():
    import csv
    import io

    from perception.analysis.services.exports import Column, Table
    from perception.analysis.services.exports import to_csv as analysis_csv
    from perception.collection.services.consolidation import to_csv
    from perception.kpi.services.report_csv import _cell

    assert _cell("＝cmd|'/c calc'!A0").startswith("'＝")
    rows = list(csv.reader(io.StringIO(to_csv([["＠SUM(1)", "ok"]]).decode("utf-8-sig"), newline="")))
    assert rows == [["'＠SUM(1)", "ok"]]
    table = Table("t", (Column("a", "甲", "A"),), ({"a": "＝1+1"},))
    assert "'＝1+1" in analysis_csv(table, zh=False).decode("utf-8-sig")
