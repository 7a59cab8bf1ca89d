"""The authorisation matrix, generated: every route of the URL map (the API's checked against the
OpenAPI document) x every role x an own / another region's or customer's / a missing id, on the
demo organisation. A route added tomorrow is in the matrix without a new test.

What holds, case by case:
- somebody not signed in gets the sign-in page (API: 401), never the route;
- a role without the route's permission gets 403, whatever the id;
- a role with it gets 404 for a missing id, and for an id outside its region or customer exactly
  what a missing id gets (so ids cannot be probed);
- a page a region-bound collector or a customer representative may open names no customer outside
  their scope (the representative sees only that customer, as the README promises).

The representative's scope on reviews, /setup/plan and the standards pages holds. Findings beyond
what the issue names are ``xfail(strict=False)`` with the reason, for a later decision.
"""

from __future__ import annotations

import os
import tempfile

import pytest

from tests.probes import judge
from tests.route_walk import ROLE_USERS, Route, World, routes

# Leaks the matrix finds and nobody has fixed yet, (route, role) -> what leaks, run as non-strict
# xfails. None are open: the last two (a regional team reading other regions' representatives on a
# standard; "Asia/Shanghai" read as a region's name in an SLA) were fixed in session 5.
OPEN_FINDINGS: dict[tuple[str, str], str] = {}


def _route_table() -> dict[str, Route]:
    """The URL map of an app of its own, read at collection time (no database is touched)."""
    from perception import create_app

    saved = os.environ.get("PERCEPTION_INSTANCE_PATH")
    folder = tempfile.mkdtemp(prefix="perception-matrix-")
    os.environ["PERCEPTION_INSTANCE_PATH"] = folder
    try:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/none.sqlite"})
        with app.app_context():
            return {r.name: r for r in routes(app)}
    finally:
        if saved is None:
            os.environ.pop("PERCEPTION_INSTANCE_PATH", None)
        else:
            os.environ["PERCEPTION_INSTANCE_PATH"] = saved


ROUTES = _route_table()
PUBLIC = {name for name, r in ROUTES.items() if not r.permissions}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" not in metafunc.fixturenames:
        return
    params = []
    for name in ROUTES:
        for role in ROLE_USERS:
            marks = []
            if (name, str(role)) in OPEN_FINDINGS:
                marks.append(pytest.mark.xfail(strict=False, reason=OPEN_FINDINGS[(name, str(role))]))
            params.append(pytest.param((name, role), id=f"{name} as {role or 'anonymous'}", marks=marks))
    metafunc.parametrize("case", params)


def test_route_as_role(walk_world: World, case: tuple[str, str | None]) -> None:
    name, role = case
    problems = judge(walk_world, ROUTES[name], role, public=name in PUBLIC)
    assert not problems, "\n".join(problems)
