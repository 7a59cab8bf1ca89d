"""A NUL character in a text part of an address ("%00"), found in session 18 while probing the
uploads: the anonymous survey link /s/a/<slug>, a service desk's /intake/<code>/events (both
public) and a job's page /jobs/<id> (and /api/v1/jobs/<id>) looked the text up in the database;
SQLite found nothing (404), PostgreSQL refused the lookup with `psycopg.DataError: PostgreSQL text
fields cannot contain NUL (0x00) bytes`, a 500. Now a text part never holds one, as an id part
never holds a number no column can (perception.web.parameters): the address matches no route,
404 on both databases, exactly like a slug or code that does not exist."""

from __future__ import annotations

from typing import Any

import pytest

from perception.core.users import issue_token


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/s/a/link%00x"), ("POST", "/intake/DESK%00/events")],
)
def test_a_public_address_with_a_nul_is_not_found(client: Any, method: str, path: str) -> None:
    answer = client.open(path, method=method, data=b"{}")
    assert answer.status_code == 404


def test_a_job_address_with_a_nul_is_not_found(login_as: Any, client: Any, db_session: Any) -> None:
    page = login_as("system_owner")
    assert page.get("/jobs/job%00-1").status_code == 404
    _, secret = issue_token(db_session, page.user, "t")
    answer = client.get("/api/v1/jobs/job%00-1", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 404 and answer.content_type == "application/problem+json"
