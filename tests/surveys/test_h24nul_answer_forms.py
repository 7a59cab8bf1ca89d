"""A NUL character in a survey answer typed into a link's page (session 18). The respondent's pages
read the posted form without a WTForms form (``read_page(form_class, request.form)``), so it was
probed whether that path bypasses the request's NUL check: it does not (each answer is read
through ``getlist``/``get`` of the request's form, perception.web.parameters), so the answer is the
field's 400 in both languages on SQLite and PostgreSQL alike and nothing is stored. This keeps it
so, on the public anonymous link."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from perception.surveys.models import Response


def test_a_nul_in_an_answer_is_the_fields_400(app: Any, db_session: Any, make_campaign: Any,
                                              post_page: Any) -> None:  # fmt: skip
    campaign = make_campaign(channel="anonymous")
    path = f"/s/a/{campaign.public_slug}"
    for lang, expected in (("en", "the value of “improve” contains a NUL character"),
                           ("zh-CN", "“improve”的值含有不允许的空字符")):  # fmt: skip
        c = app.test_client()
        html = c.get(path, headers={"Accept-Language": lang}).get_data(as_text=True)
        c.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
        answers = {"csat": "2", "low_reasons": "slow_response", "improve": "太\x00慢"}
        answer = post_page(c, path, answers, html=html)
        shown = re.sub(r"\s+", " ", answer.get_data(as_text=True))
        assert answer.status_code == 400 and expected in shown, shown[:300]
    assert db_session.scalar(select(func.count()).select_from(Response)) == 0
