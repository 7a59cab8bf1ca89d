"""The outside probe's cases, generated from the URL map: authorisation (every route x every role
x own/other/missing id) and over-long integers in every query parameter a GET route reads.

Each probe yields ``Case``s; ``run`` sends one and says whether it held. The tests assert that
all held (tests/e2e/test_authorisation_matrix.py, tests/e2e/test_bad_input_walk.py) and
``bench/security_probe.py`` prints the counts, so the next probe has figures to compare.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from tests.route_walk import ROLE_USERS, Route, World, is_int_converter, routes

OVERLONG = ("99999999999999999999999", "-99999999999999999999999", "2147483648")
# Parameters every listing may read; each route's own are found by watching what it reads.
COMMON_PARAMS = ("page", "per_page", "region", "region_id", "service", "customer", "week", "weeks", "limit")
TEXT_MARKERS = ("Traceback", "OverflowError", "NumericValueOutOfRange", "out of range for type")


@dataclass
class Case:
    probe: str
    route: Route
    role: str | None
    url: str
    variant: str = "own"

    @property
    def name(self) -> str:
        return f"{self.probe}: {self.route.method} {self.url} as {self.role or 'anonymous'}"


def holders(permissions: tuple[str, ...]) -> list[str | None]:
    """The roles that hold at least one of the permissions (every role for a sign-in-only route)."""
    from perception.core.authz import PERMISSIONS, Permission

    roles = [r for r in ROLE_USERS if r is not None]
    if not permissions:
        return list(roles)
    allowed = set().union(*(PERMISSIONS[Permission(p)] for p in permissions))
    return [r for r in roles if any(a.value == r for a in allowed)]


class Recorder:
    """Swaps the app's query-string class for one that records the names a view reads."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.names: set[str] = set()

    def __enter__(self) -> Recorder:
        base_request = self.app.request_class
        seen = self.names

        class Recording(base_request.parameter_storage_class):  # type: ignore[misc, name-defined]
            def get(self, key: Any, *args: Any, **kw: Any) -> Any:
                seen.add(str(key))
                return super().get(key, *args, **kw)

            def __getitem__(self, key: Any) -> Any:
                seen.add(str(key))
                return super().__getitem__(key)

            def getlist(self, key: Any, *args: Any, **kw: Any) -> Any:
                seen.add(str(key))
                return super().getlist(key, *args, **kw)

            def __contains__(self, key: object) -> bool:
                seen.add(str(key))
                return super().__contains__(key)

        self._saved = base_request
        self.app.request_class = type(
            "RecordingRequest", (base_request,), {"parameter_storage_class": Recording}
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.app.request_class = self._saved


def _documented_params(route: Route) -> set[str]:
    from perception.api.openapi import PATHS

    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.rule.rule)
    operation = PATHS.get(path, {}).get(route.method.lower(), {})
    return {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}


def overlong_cases(world: World) -> Iterator[Case]:
    """Every GET route, signed in as a role that may open it, with each query parameter it reads
    (and the common ones, and the documented ones) set to an over-long integer, alone and all at
    once; and every integer in its path replaced by one."""
    for route in routes(world.app):
        if route.method != "GET" or route.rule.rule.startswith(("/static", "/s/engine")):
            continue
        allowed = holders(route.permissions)
        role = allowed[0] if allowed else None
        url = world.url(route, role, "own") or world.url(route, role, "missing")
        if url is None:
            continue
        with Recorder(world.app) as recorder:
            _send(world, Case("discover", route, role, url))
        names = recorder.names | set(COMMON_PARAMS) | _documented_params(route)
        names.discard("csrf_token")
        glue = "&" if "?" in url else "?"
        for name in sorted(names):  # each alone: an earlier refusal cannot hide a later parser
            yield Case("overlong query integer", route, role, f"{url}{glue}{quote(name)}={OVERLONG[0]}")
        for value in OVERLONG:  # every value, in all of them at once
            query = "&".join(f"{quote(name)}={value}" for name in sorted(names))
            yield Case("overlong query integer", route, role, f"{url}{glue}{query}")
        for name, converter in route.rule._converters.items():
            if is_int_converter(converter):
                built = world.url(route, role, "own", **{name: int(OVERLONG[0])})
                if built:
                    yield Case("overlong path integer", route, role, built)


# --- the authorisation matrix ---------------------------------------------------------------


TIME_ZONE_NAME = re.compile(r"\b(?:Africa|America|Asia|Atlantic|Australia|Europe|Indian|Pacific)/[A-Za-z_]+")


def foreign_names(world: World, role: str | None) -> list[str]:
    """What a page or JSON would show of a bound user's outside: the names of the customers of
    other regions (a representative: of every other customer) and of the users bound to them.
    A representative's outside includes the other regions' names (the README: a representative
    sees only that customer); a collector's does not (a standard may name the regions it covers)."""
    if ("foreign", role) not in world.memo:
        world.memo[("foreign", role)] = _foreign_names(world, role)
    return list(world.memo[("foreign", role)])


def _foreign_names(world: World, role: str | None) -> list[str]:
    from perception.core.models.auth import User
    from perception.core.models.org import CustomerOrg, Region

    user = world.user(role)
    if user is None or (user.region_id is None and user.customer_id is None):
        return []
    customers = list(world.session.scalars(select(CustomerOrg)))
    own_region = user.region_id or next(c.region_id for c in customers if c.id == user.customer_id)
    names: list[str] = []
    for customer in customers:
        mine = customer.id == user.customer_id if user.customer_id else customer.region_id == user.region_id
        if not mine:
            names += [customer.name_zh, customer.name_en, str(escape(customer.name_en))]
    if user.customer_id is not None:  # a representative sees one customer: not other regions either
        for region in world.session.scalars(select(Region).where(Region.id != own_region)):
            names += [region.name_zh, region.name_en]
    outside = {c.id for c in customers if str(escape(c.name_en)) in names}
    for other in world.session.scalars(select(User).where(User.id != user.id)):
        if (other.customer_id in outside) or (other.region_id is not None and other.region_id != own_region):
            names.append(other.username)
    return sorted(set(names))


def variants(world: World, route: Route, role: str | None) -> list[str]:
    if not any(is_int_converter(c) for c in route.rule._converters.values()):
        return ["plain"]
    user = world.user(role)
    bound = user is not None and (user.region_id is not None or user.customer_id is not None)
    return ["own", "other", "missing"] if bound else ["own", "missing"]


def _addresses(world: World, route: Route, role: str | None) -> list[tuple[str, str]]:
    """(variant, url) pairs; a GET is tried with up to three own ids, since a view may narrow the
    scope further than the model (a representative sees signed reviews only)."""
    out = []
    for variant in variants(world, route, role):
        url = world.url(route, role, "own" if variant == "plain" else variant)
        if url is not None:
            out.append((variant, url))
        if variant == "own" and route.method == "GET":
            out += [("own", u) for u in world.more_own_urls(route, role, url, 2)]
    return out


def judge(world: World, route: Route, role: str | None, *, public: bool) -> list[str]:
    """Every way this (route, role) breaks the rules of tests/e2e/test_authorisation_matrix.py."""
    problems: list[str] = []
    if route.rule.rule == "/logout" and role is not None:
        return problems  # it ends the session (on the server, too) that the next cases use
    allowed = role in holders(route.permissions)
    statuses: dict[str, int] = {}
    for variant, url in _addresses(world, route, role):
        try:
            response = world.request(role, route.method, url, api=route.api)
        except Exception as exc:  # noqa: BLE001 - a 500 in the making
            problems.append(f"{variant} {url}: {type(exc).__name__}: {exc}"[:300])
            continue
        status = statuses[variant] = response.status_code
        where = f"{variant} {route.method} {url} -> {status}"
        if status >= 500:
            problems.append(where)
        elif role is None and not public:
            expected = 401 if route.api else 302
            if status != expected or (status == 302 and "/login" not in response.location):
                problems.append(f"{where}: not signed in, expected {expected}")
        elif role is not None and not allowed and route.permissions:
            if status != 403:
                problems.append(f"{where}: the role lacks {'/'.join(route.permissions)}, expected 403")
        elif (
            role is not None
            and variant == "missing"
            and status != 404
            and (route.method == "GET" or status not in (302, 303))  # a form may go back with a message
        ):
            problems.append(f"{where}: a missing id must answer 404")
        if role is not None and status == 200 and variant in ("own", "plain") and route.method == "GET":
            # A time zone's IANA name ("Asia/Shanghai") names a city, not a customer or region.
            body = TIME_ZONE_NAME.sub("", response.get_data(as_text=True))
            seen = [n for n in foreign_names(world, role) if n in body]
            if seen:
                problems.append(f"{where}: shows customers outside the scope: {', '.join(seen[:4])}")
    if "other" in statuses and "missing" in statuses and statuses["other"] != statuses["missing"]:
        problems.append(f"another scope's id -> {statuses['other']}, a missing one -> {statuses['missing']}")
    return problems


# --- over-long integers ---------------------------------------------------------------------


@dataclass
class Outcome:
    held: bool
    status: int | None
    detail: str = ""


def _send(world: World, case: Case) -> Outcome:
    try:
        response = world.request(case.role, case.route.method, case.url, api=case.route.api)
    except Exception as exc:  # noqa: BLE001 - a propagated exception is what a 500 is made of
        return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:300])
    body = response.get_data(as_text=True)[:20000]
    if response.status_code >= 500 or any(m in body for m in TEXT_MARKERS):
        return Outcome(False, response.status_code, body[:300])
    return Outcome(True, response.status_code)


def run_overlong(world: World, case: Case) -> Outcome:
    """Held: no 500 and no traceback; a path integer is 404 like a missing id."""
    outcome = _send(world, case)
    if outcome.held and case.probe == "overlong path integer" and outcome.status != 404:
        return Outcome(False, outcome.status, "an over-long path id must answer 404")
    return outcome
