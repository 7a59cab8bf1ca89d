"""Integers a user can type into an address are bounded where they are parsed (issue 18).

Today ``?region=99999999999999999999999`` reached the database and answered 500 (PostgreSQL: out
of range; SQLite: OverflowError). The whole URL map is walked with such values on the demo in
tests/e2e/test_bad_input_walk.py; these are the two parsers it relies on, fast.
"""

from __future__ import annotations

import pytest

from perception.core.users import issue_token

HUGE = "99999999999999999999999"


@pytest.fixture
def api(db_session, make_user):
    _, secret = issue_token(db_session, make_user("ana", "analyst", "system_owner"), "t")
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize(
    "path", [f"/api/v1/regions/{HUGE}", "/api/v1/regions/2147483648", f"/api/v1/kpi/tickets/{HUGE}"]
)
def test_an_id_no_column_holds_is_not_found(client, api, path):
    response = client.get(path, headers=api)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    "query", [f"region_id={HUGE}", f"region_id=-{HUGE}", "page=2147483648", f"per_page={HUGE}"]
)
def test_a_query_number_no_column_holds_is_a_400_naming_it(client, api, query):
    response = client.get(f"/api/v1/kpi/tickets?{query}", headers=api)
    assert response.status_code == 400, response.data[:300]
    problem = response.get_json()["errors"][0]
    assert problem["field"] == query.split("=")[0] and problem["code"] == "out_of_range"
    assert "out of range" in problem["detail_en"] and "超出范围" in problem["detail_zh"]


def test_the_page_names_the_parameter_in_the_users_language(login_as):
    c = login_as("analyst")
    response = c.get(f"/kpi/tickets?region={HUGE}", headers={"Accept-Language": "zh-CN"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "region" in html and "数字超出范围" in html
    assert c.get("/kpi/tickets?region=abc").status_code == 200  # text still falls back to "all"
    assert c.get(f"/improvements?owner={HUGE}").status_code == 400


@pytest.mark.parametrize("name", ["region", "service", "customer", "tier"])
def test_analysis_filters_refuse_an_overlong_id(client, api, name):
    response = client.get(f"/api/v1/analysis/overview?{name}={HUGE}", headers=api)
    assert response.status_code in (400, 422), response.data[:300]
    assert response.get_json()["errors"][0]["field"] == name
