"""The setup document import reads what Chinese Windows writes (issue 18, "Uploads and bad input").

Today a GBK-encoded YAML file uploaded to the setup import answered 500 (it was decoded as UTF-8
only). Uploads are decoded by the one rule of ``perception.core.uploads`` (BOM, UTF-8, GB18030
which includes GBK); bytes that are no text get a clear 422 in both languages.
"""

from __future__ import annotations

from sqlalchemy import select

from perception.core.users import issue_token
from perception.setup.models.catalog import ServiceTier
from tests.conftest import csrf_token, login
from tests.upload_bombs import post_upload

DOC = "format: perception-setup/1\ntiers:\n  - {code: B, name_zh: 铜牌服务, name_en: Bronze, rank: 5}\n"


def test_gbk_yaml_upload_on_the_page(app, db_session, make_user):
    make_user("boss", "system_owner")
    c = app.test_client()
    login(c, "boss")
    response = post_upload(
        c,
        "/setup/config/import",
        {"document": (DOC.encode("gbk"), "setup.yaml")},
        csrf_token(c, "/setup/config"),
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    assert db_session.scalar(select(ServiceTier.name_zh).where(ServiceTier.code == "B")) == "铜牌服务"


def test_gbk_yaml_to_the_api_and_undecodable_bytes(db_session, client, make_user):
    _, secret = issue_token(db_session, make_user("boss", "system_owner"), "t")
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/x-yaml"}
    response = client.post("/api/v1/setup/import?dry_run=1", data=DOC.encode("gbk"), headers=headers)
    assert response.status_code == 200 and response.get_json()["changes"] == 1
    not_text = b"x: \xff\x81\x30\x00\x80\xff\x81"  # neither UTF-8 nor GB18030
    refused = client.post("/api/v1/setup/import", data=not_text, headers=headers)
    assert refused.status_code == 422, refused.data[:300]
    body = refused.get_json()
    assert body["errors"][0]["code"] == "bad_encoding"
    assert "GB18030" in body["errors"][0]["detail_en"] and "编码" in body["errors"][0]["detail_zh"]
