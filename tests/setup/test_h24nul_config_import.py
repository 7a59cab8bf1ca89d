"""A NUL character in a setup document (session 18): YAML writes one as the escape "\\0" (or "\\x00")
in a double-quoted text, JSON as "\\u0000", so an uploaded or posted document carries it without a
NUL byte. Every text of the demo's exported document was probed with one, "only check" (dry run)
included: SQLite stored it (or answered "no such code" for a reference); PostgreSQL refused the
lookup or the write with `psycopg.DataError: PostgreSQL text fields cannot contain NUL (0x00)
bytes`, a 500 on the page and on the API's YAML import (its JSON body was refused already). Now
each text (or key) holding one is named by its path, in English and Chinese, on both databases,
before anything is read into the setup, and nothing is stored. A raw NUL byte is no YAML (the
document cannot be parsed) and one typed into the page's text box is that field's 400."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.core.users import issue_token
from perception.setup.models.catalog import Service, ServiceTier
from perception.setup.services.config import import_document, load_text
from perception.setup.services.errors import SetupError
from tests.conftest import csrf_token, login

DOC = """format: perception-setup/1
tiers:
  - {code: BRONZE, name_zh: "铜{nul}牌", name_en: Bronze, rank: 5}
services:
  - {code: "HW{nul}", name_zh: 硬件维修, name_en: Hardware repair, kind: reactive, owner: boss}
"""


def _document(nul: str) -> str:
    return DOC.replace("{nul}", nul)


def _nothing_stored(session: Any) -> bool:
    tiers = session.scalar(select(func.count()).select_from(ServiceTier).where(ServiceTier.code == "BRONZE"))
    return tiers == session.scalar(select(func.count()).select_from(Service)) == 0


@pytest.mark.parametrize("escape", ["\\0", "\\x00"])
@pytest.mark.parametrize("dry_run", [True, False])
def test_each_text_holding_a_nul_is_named_by_its_path(
    db_session: Any, make_user: Any, escape: str, dry_run: bool
) -> None:
    make_user("boss", "system_owner")
    doc = load_text(_document(escape))
    assert doc["tiers"][0]["name_zh"] == "铜\x00牌"  # what YAML reads
    with pytest.raises(SetupError) as info:
        import_document(db_session, doc, dry_run=dry_run)
    assert [(p.field, p.code) for p in info.value.problems] == [
        ("tiers[0].name_zh", "nul_character"),
        ("services[0].code", "nul_character"),
    ]
    found = info.value.problems[0]
    assert "NUL character (0x00)" in found.text("en") and "空字符（0x00）" in found.text("zh")
    assert _nothing_stored(db_session)


def test_a_nul_in_a_key_or_a_list_is_named(db_session: Any) -> None:
    doc = {"format": "perception-setup/1", "tiers": [{"code": "BRONZE", "na\x00me": "x"}],
           "services": [{"code": "HW", "regions": ["R1", "R\x002"]}]}  # fmt: skip
    with pytest.raises(SetupError) as info:
        import_document(db_session, doc)
    assert [p.field for p in info.value.problems] == ["tiers[0].na\\0me", "services[0].regions[1]"]
    assert _nothing_stored(db_session)


def test_a_nul_byte_is_no_yaml(db_session: Any) -> None:
    with pytest.raises(SetupError) as info:
        load_text(_document("\x00").encode())
    assert [p.code for p in info.value.problems] == ["unparsable"]


def _shown(response: Any) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_the_page_names_the_path(app: Any, db_session: Any, make_user: Any) -> None:
    make_user("boss", "system_owner")
    c = app.test_client()
    login(c, "boss")
    page = "/setup/config/import"
    for fields, lang, expected in (
        ({"document": (io.BytesIO(_document("\\0").encode()), "setup.yaml")}, "en", "NUL character"),
        ({"text": _document("\\0")}, "zh-CN", "空字符"),  # the escape typed: no NUL in the request
    ):
        answer = c.post(page, data={"csrf_token": csrf_token(c, "/setup/config"), **fields},
                        headers={"Accept-Language": lang}, content_type="multipart/form-data")  # fmt: skip
        shown = _shown(answer)
        assert answer.status_code == 422 and "tiers[0].name_zh" in shown and expected in shown, shown[:300]
    typed = c.post(page, data={"csrf_token": csrf_token(c, "/setup/config"), "text": _document("\x00")})
    assert typed.status_code == 400 and "“text”" in _shown(typed)
    assert _nothing_stored(db_session)


def test_the_api_names_the_path_in_yaml_and_in_json(client: Any, db_session: Any, make_user: Any) -> None:
    _, secret = issue_token(db_session, make_user("boss", "system_owner"), "t")
    headers = {"Authorization": f"Bearer {secret}"}
    yaml_body = _document("\\0").encode()
    answer = client.post("/api/v1/setup/import?dry_run=1", data=yaml_body,
                         headers={**headers, "Content-Type": "application/x-yaml"})  # fmt: skip
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
    assert [(e["field"], e["code"]) for e in answer.get_json()["errors"]] == [
        ("tiers[0].name_zh", "nul_character"),
        ("services[0].code", "nul_character"),
    ]
    json_body = load_text(_document("\\0"))
    answer = client.post("/api/v1/setup/import", json=json_body, headers=headers)
    assert answer.status_code == 422 and {e["code"] for e in answer.get_json()["errors"]} == {"nul_character"}
    assert _nothing_stored(db_session)
