"""Walking every route of the URL map on the demo organisation, as the outside probe does.

Shared by the authorisation matrix, the bad-input walk and ``bench/security_probe.py``: routes
come from ``app.url_map`` (the API's also from the OpenAPI document), so a route added tomorrow is
walked without a new test. A path id is filled with an object the user may see ("own"), one
outside their region or customer ("other", decided by ``perception.core.authz.scoped``, the same
rule the views must apply) or one that does not exist ("missing").

The demo (two regions, three weeks) is in an outer transaction that is rolled back at the end;
every request runs in a savepoint that is rolled back, so one case's POST cannot change what the
next case sees (and the world's answers about ids and names can be kept for the next case).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

DEMO_REGIONS = ("BJ", "SH")
DEMO_WEEKS = 3
DEMO_PASSWORD = "perception-demo"
MISSING_ID = 2_000_000_000  # within an INTEGER column, and no demo object has it

# The demo user who holds each role (the collector and the representative are bound to Beijing
# and to Beijing Bank); None is somebody not signed in.
ROLE_USERS: dict[str | None, str | None] = {
    None: None,
    "system_owner": "owner",
    "organiser": "organiser",
    "analyst": "analyst",
    "manager": "manager",
    "reviewer": "reviewer",
    "market": "market",
    "collector": "collector.bj",
    "customer_rep": "customer.rep",
}

# The model an integer path parameter names; a (path prefix, parameter) pair overrides the name.
PARAM_MODELS: dict[str, str] = {
    "alert_id": "Alert",
    "batch_id": "ImportBatch",
    "campaign_id": "Campaign",
    "contact_id": "Contact",
    "customer_id": "CustomerOrg",
    "definition_id": "KpiDefinition",
    "delivery_id": "WebhookDelivery",
    "entry_id": "TextEntry",
    "event_id": "IntakeEvent",
    "finding_id": "ReviewFinding",
    "item_id": "ImprovementItem",
    "key_id": "ApiToken",
    "opp_id": "Opportunity",
    "point_id": "CollectionPoint",
    "record_id": "TrainingRecord",
    "region_id": "Region",
    "report_id": "CollectionReport",
    "review_id": "Review",
    "route_id": "FollowUpRoute",
    "run_id": "SamplingRun",
    "sampled_id": "SampledTicket",
    "service_id": "Service",
    "sla_id": "Sla",
    "standard_id": "ServiceStandard",
    "subscription_id": "Subscription",
    "task_id": "FollowUpTask",
    "ticket_id": "Ticket",
    "tier_id": "ServiceTier",
    "user_id": "User",
    "version_id": "SurveyVersion",
}
PARAM_OVERRIDES: dict[tuple[str, str], str] = {
    ("/setup/plan/", "item_id"): "PlanItem",
    ("/collection/callbacks/", "campaign_id"): "CallbackCampaign",
    ("/collection/callbacks/tasks/", "task_id"): "CallbackTask",
    ("/api/v1/collection/callbacks/tasks/", "task_id"): "CallbackTask",
    ("/setup/standards/", "version_id"): "StandardVersion",
    ("/admin/webhooks/", "subscription_id"): "WebhookSubscription",
}


@dataclass(frozen=True)
class Route:
    rule: Any
    method: str
    permissions: tuple[str, ...]  # empty: public or sign-in only

    @property
    def api(self) -> bool:
        return self.rule.rule.startswith("/api/")

    @property
    def name(self) -> str:
        return f"{self.method} {self.rule.rule}"


def _permissions(view: Any) -> tuple[str, ...]:
    while view is not None:
        found = getattr(view, "required_permissions", None)
        if found:
            return tuple(p.value for p in found)
        view = getattr(view, "__wrapped__", None)
    return ()


def routes(app: Any) -> list[Route]:
    """Every (rule, method) of the URL map but static files, checked against the OpenAPI document."""
    from perception.api.openapi import PATHS

    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            route = Route(rule, method, _permissions(app.view_functions[rule.endpoint]))
            if route.api and rule.rule.startswith("/api/v1/"):
                path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
                assert method.lower() in PATHS.get(path, {}), f"{route.name} is not in the OpenAPI document"
            out.append(route)
    return sorted(out, key=lambda r: (r.rule.rule, r.method))


def model_of(rule: str, param: str) -> Any:
    from perception.core.extensions import db

    name = next(
        (m for (prefix, p), m in PARAM_OVERRIDES.items() if p == param and rule.startswith(prefix)), None
    )
    name = name or PARAM_MODELS.get(param)
    assert name, f"{rule}: add the model that <{param}> names to tests/route_walk.py PARAM_MODELS"
    return next(m.class_ for m in db.Model.registry.mappers if m.class_.__name__ == name)


@dataclass
class World:
    """The demo organisation on one connection, and signed-in clients of its users."""

    app: Any
    session: Any
    connection: Any
    users: dict[str, Any] = field(default_factory=dict)
    clients: dict[str | None, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    strings: dict[str, str] = field(default_factory=dict)
    # Answers of queries on the world, which no case changes (every request is rolled back): the
    # ids of a model in or out of a user's scope, a bound user's outside names.
    memo: dict[Any, Any] = field(default_factory=dict)

    def user(self, role: str | None) -> Any:
        username = ROLE_USERS[role]
        return None if username is None else self.users[username]

    def request(
        self, role: str | None, method: str, url: str, *, api: bool = False, csrf: bool = True, **kw: Any
    ) -> Any:
        """One request as ``role`` (API routes with the user's bearer token; forms with the CSRF
        token of the user's session unless ``csrf`` is False), rolled back after."""
        client = self.clients[role]
        headers = dict(kw.pop("headers", {}) or {})
        if api and role is not None:
            headers["Authorization"] = f"Bearer {self.tokens[ROLE_USERS[role] or '']}"
        if method in ("POST", "PUT", "PATCH", "DELETE") and not api and csrf:
            kw.setdefault("data", {})
            kw["data"] = {**kw["data"], "csrf_token": self.csrf(role)}
        savepoint = self.connection.begin_nested()
        cookies = dict(client._cookies or {})  # a POST /logout or /language must not last either
        try:
            return client.open(url, method=method, headers=headers, **kw)
        finally:
            if savepoint.is_active:
                savepoint.rollback()
            client._cookies = cookies

    def csrf(self, role: str | None) -> str:
        key = f"csrf:{role}"
        if key not in self.strings:
            from tests.conftest import csrf_token

            self.strings[key] = csrf_token(self.clients[role], "/" if role else "/login")
        return self.strings[key]

    def ids(self, model: Any, user: Any, *, inside: bool, parent: tuple[Any, int] | None = None) -> list[int]:
        """Ids of ``model`` inside (or outside) the user's scope, children of ``parent`` if given."""
        key = ("ids", model, None if user is None else user.id, inside, parent)
        if key not in self.memo:
            self.memo[key] = self._ids(model, user, inside=inside, parent=parent)
        return list(self.memo[key])

    def _ids(self, model: Any, user: Any, *, inside: bool, parent: tuple[Any, int] | None) -> list[int]:
        from perception.core.authz import scoped

        pk = model.__mapper__.primary_key[0]
        stmt = select(pk).order_by(pk)
        if parent is not None:
            column = _foreign_key(model, parent[0])
            if column is not None:
                stmt = stmt.where(column == parent[1])
        visible = set(self.session.scalars(scoped(stmt, model, user)).all()) if user is not None else set()
        every = self.session.scalars(stmt).all()
        return [i for i in every if (i in visible) == inside]

    def url(self, route: Route, role: str | None, variant: str, **replace: Any) -> str | None:
        """The route's address for ``variant`` own/other/missing, or None when the demo has none;
        ``replace`` overrides path values (an over-long id)."""
        values = self.values(route, role, variant)
        if values is None:
            return None
        return route.rule.build({**values, **replace}, append_unknown=False)[1]

    def more_own_urls(self, route: Route, role: str | None, first: str | None, n: int) -> list[str]:
        """Up to ``n`` more own addresses, with other ids of the route's first integer parameter."""
        values = self.values(route, role, "own")
        ints = [k for k, c in route.rule._converters.items() if is_int_converter(c)]
        if values is None or not ints:
            return []
        user = self.user(role) or self.user("system_owner")
        out = []
        for other in self.ids(model_of(route.rule.rule, ints[0]), user, inside=True)[1 : n + 1]:
            url = route.rule.build({**values, ints[0]: other}, append_unknown=False)[1]
            if url != first:
                out.append(url)
        return out

    def values(self, route: Route, role: str | None, variant: str) -> dict[str, Any] | None:
        user = self.user(role) or self.user("system_owner")
        values: dict[str, Any] = {}
        parent: tuple[Any, int] | None = None
        first = True
        for name, converter in route.rule._converters.items():
            if (
                type(converter).__name__ != "BoundedIntConverter"
                and "Integer" not in type(converter).__name__
            ):
                values[name] = self.string_value(route.rule.rule, name)
                continue
            model = model_of(route.rule.rule, name)
            if variant == "missing" and first:
                values[name] = MISSING_ID
            else:
                inside = not (variant == "other" and first)
                candidates = self.ids(model, user, inside=inside, parent=parent)
                if not candidates and parent is not None:  # no child of that parent: any child
                    candidates = self.ids(model, user, inside=inside)
                if not candidates:
                    return None
                values[name] = candidates[0]
            parent = (model, values[name])
            first = False
        return values

    def string_value(self, rule: str, name: str) -> str:
        from perception.analysis.services.tables import BUILDERS
        from perception.core.periods import iso_week_label

        fixed = {
            "kind": "monthly",
            "lang": "zh",
            "fmt": "csv",
            "step": "confirm",
            "action": "confirm",
            "token": "not-a-real-token",
            "filename": "css/app.css",
            "week": iso_week_label(date.today()),
        }
        if name == "name":
            return "overview_trend" if "/chart/" in rule else next(iter(BUILDERS))
        return self.strings.get(name) or fixed.get(name, "x")


def is_int_converter(converter: Any) -> bool:
    from werkzeug.routing import IntegerConverter

    return isinstance(converter, IntegerConverter)


def _foreign_key(model: Any, parent: Any) -> Any:
    for column in model.__table__.columns:
        if any(fk.column.table is parent.__table__ for fk in column.foreign_keys):
            return getattr(model, column.key, None)
    return None


def load_small_demo(session: Any) -> None:
    from perception.core.demo import load_demo
    from perception.kpi import demo as demo_kpi
    from perception.setup import demo_org

    regions, reactive = demo_org.REGIONS, demo_kpi.REACTIVE
    demo_org.REGIONS = tuple(r for r in regions if r[0] in DEMO_REGIONS)
    demo_kpi.REACTIVE = ("SD", "DESK")
    try:
        load_demo(session, weeks=DEMO_WEEKS, today=date.today())
    finally:
        demo_org.REGIONS, demo_kpi.REACTIVE = regions, reactive


@contextmanager
def demo_world(app: Any, *, load: bool = True) -> Iterator[World]:
    """The small demo in a transaction rolled back at the end, with every role's user signed in:
    loaded here, or (``load`` False) already in ``app``'s database (tests/e2e/conftest.py
    ``walk_world``: built once per test process)."""
    from perception.analysis.models import TextTheme
    from perception.core.models.auth import User
    from perception.core.users import issue_token
    from perception.surveys.models import Campaign, Survey
    from tests.conftest import login, rolled_back

    with rolled_back(app) as session:
        if load:
            load_small_demo(session)
        world = World(app, session, session.bind)
        for role, username in ROLE_USERS.items():
            client = app.test_client()
            if username is not None:
                user = session.scalar(select(User).where(User.username == username))
                world.users[username] = user
                world.tokens[username] = issue_token(session, user, "route walk")[1]
                response = login(client, username, DEMO_PASSWORD)
                assert response.status_code == 302, (username, response.status_code)
            world.clients[role] = client
        session.flush()
        world.strings["code"] = session.scalar(select(Survey.code).limit(1)) or "x"
        world.strings["slug"] = (
            session.scalar(select(Campaign.public_slug).where(Campaign.public_slug.is_not(None)).limit(1))
            or "x"
        )
        world.strings["key"] = session.scalar(select(TextTheme.key).limit(1)) or "x"
        yield world
