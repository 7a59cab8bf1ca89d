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
