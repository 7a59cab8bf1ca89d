"""A NUL character typed into a callback task's page (session 18). The page binds the callback
script's forms to ``request.form`` itself (``_script_forms``), so it was probed whether that path
bypasses the request's NUL check: it does not (WTForms reads each field through ``getlist``,
perception.web.parameters), so the note or an answer holding one is the field's 400 on SQLite and
PostgreSQL alike and the call is not recorded. This keeps it so."""

from __future__ import annotations

from typing import Any

import pytest

from tests.collection.test_collection_callbacks import ANSWERS, queue, script
from tests.conftest import post_form

__all__ = ["queue", "script"]  # the callback tests' fixtures, used here


@pytest.mark.parametrize(("field", "value"), [("note", "占\x00线"), ("csat", "4\x00")])
def test_a_nul_in_the_call_is_the_fields_400(login_as: Any, db_session: Any, queue: Any, field: str,
                                             value: str) -> None:  # fmt: skip
    c = login_as("collector")
    task = queue.tasks[1]
    url = f"/collection/callbacks/tasks/{task.id}"
    answer = post_form(c, url, {"outcome": "completed", **ANSWERS, field: value}, token_from=url)
    assert answer.status_code == 400 and f"“{field}”" in answer.get_data(as_text=True)
    db_session.expire_all()
    assert task.status == "pending" and not task.attempt_log
