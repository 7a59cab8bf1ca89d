"""The SERVQUAL gap table names the built-in instrument's items by their statements, never by
ids such as tan_1 (the demo's SERVQUAL wave showed 22 ids on the experience page)."""

from __future__ import annotations

from typing import Any

from perception.analysis.labels import servqual_item


def test_builtin_items_read_as_their_statements_in_the_readers_language(app: Any) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert servqual_item("ass_1") == "The behaviour of staff instils confidence in you."
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert servqual_item("ass_1") == "服务人员的言行让您信得过。"
        # An item of an organisation's own questionnaire keeps the id it was given.
        assert servqual_item("own_question_7") == "own_question_7"
        assert servqual_item(None) == ""
