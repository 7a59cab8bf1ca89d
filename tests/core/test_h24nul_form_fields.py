"""A NUL character in a form field: on PostgreSQL the sign-in page answered 500 (a user name with
a NUL reached the database, which refuses it), observed in session 17 with the Flask client.
Query parameters and API bodies refuse one already (test_api_contract); forms are read through
``getlist`` (WTForms), which did not check. Now the field's 400 names it, on both databases, and
nothing is stored."""

from __future__ import annotations

import re

from sqlalchemy import select

from perception.setup.models.catalog import Service
from tests.conftest import csrf_token


def _shown(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_a_nul_in_the_sign_in_form_is_the_fields_400(client, make_user):
    make_user("manager1", "manager")
    token = csrf_token(client, "/login")
    answer = client.post("/login", data={"username": "manager\x001", "password": "x", "csrf_token": token})
    assert answer.status_code == 400
    assert "the value of “username” contains a NUL character" in _shown(answer)
    zh = client.post(
        "/login",
        data={"username": "manager\x001", "password": "x", "csrf_token": token},
        headers={"Accept-Language": "zh-CN"},
    )
    assert zh.status_code == 400 and "“username”的值含有不允许的空字符" in _shown(zh)


def test_a_nul_in_a_setup_form_stores_nothing(login_as, db_session):
    owner = login_as("system_owner")
    token = csrf_token(owner, "/setup/services/new")
    answer = owner.post(
        "/setup/services/new",
        data={"code": "NULSVC", "name_zh": "桌面\x00服务", "name_en": "Desk", "csrf_token": token},
    )
    assert answer.status_code == 400 and "“name_zh”" in _shown(answer)
    assert db_session.scalar(select(Service).where(Service.code == "NULSVC")) is None
