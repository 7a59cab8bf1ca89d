"""Shared fixtures: the app (tables created once), a rolled-back transaction per test, clients
logged in as each role, and the rule for tests that need a real external component.

The database comes from PERCEPTION_TEST_DATABASE_URL (SQLite in a temporary folder when unset).
Each test runs inside an outer transaction on one connection; the app's commits become SAVEPOINT
releases and everything is rolled back at the end (SQLAlchemy: "Joining a Session into an
External Transaction").

Tiers, by folder: tests/unit (the pure packages scoring and surveys: no app, no database),
tests/core (the platform), one folder per phase (setup, kpi, collection, surveys, analysis,
review: services, views and API on the rolled-back database), and tests/e2e (demo loads, real
browsers and servers, packaging, PostgreSQL/Redis-only paths; all marked ``slow``). The inner loop
is ``pytest tests/unit tests/<phase>``; ``pytest`` alone runs everything.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from sqlalchemy import orm

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Property tests check results, not speed: a loaded machine must not fail them on a deadline or on
# slow data generation. Loaded here, before any test module builds its own settings on top.
settings.register_profile("perception", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("perception")


# The README's test command runs the suite over every core (pytest-xdist, ``-n auto`` with
# ``--dist loadfile``: a module's tests stay on one worker, so its module-scoped fixtures are built
# once). Each worker has its own of everything a test may change: temporary folders and SQLite
# files, ports, the PostgreSQL databases (``<name>_gw0``, ...: ``_of_this_worker``) and a Redis
# database of its own. (pytest-xdist's ``loadgroup`` cannot keep chosen modules together on
# pytest 9.2: it renames test ids through an attribute pytest no longer reads.)
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


@pytest.fixture(scope="session", autouse=True)
def _builds_shared_between_workers(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Under pytest-xdist, the demos are built once per run for all workers (tests/shared_builds.py),
    in the folder the workers of this run share."""
    if WORKER:
        from tests import shared_builds

        shared_builds.share_between_workers(tmp_path_factory.getbasetemp().parent / "shared-builds")


def require_component(name: str, available: bool, reason: str) -> None:
    """Skip when a real component is missing on a developer machine; in CI, fail instead."""
    if available:
        return
    message = f"{name} not available: {reason}"
    if IN_CI:
        pytest.fail(f"CI must exercise this path, but {message}", pytrace=False)
    pytest.skip(message)


def _postgres_of_this_worker(url: str) -> str:
    """``url`` in one process; under pytest-xdist the database ``<name>_<worker>`` beside it."""
    if not WORKER:
        return url
    from sqlalchemy.engine import make_url

    base = make_url(url)
    return base.set(database=f"{base.database}_{WORKER}").render_as_string(hide_password=False)


def _redis_of_this_worker(url: str) -> str:
    """``url`` in one process; under pytest-xdist worker N uses the database N below the one named
    (gw0 the one named, gw1 the one below it, ...; CI's passes name 14 and 15)."""
    if not WORKER:
        return url
    import redis

    kwargs = redis.connection.parse_url(url)
    number = (int(kwargs.get("db", 0)) - int(WORKER.removeprefix("gw"))) % 16
    return re.sub(r"(/\d+)?$", f"/{number}", url.split("?")[0], count=1)


POSTGRES_URL = _postgres_of_this_worker(
    os.environ.get("PERCEPTION_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
)
REDIS_URL = _redis_of_this_worker(os.environ.get("PERCEPTION_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))


def _create_database(url: str) -> None:
    """Create the database named in ``url`` when it is missing (a worker's own, on first use)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url)
    # Through the server's maintenance database: the one named in the URL need not exist.
    admin = create_engine(
        base.set(database="postgres"), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with admin.connect() as conn:
            found = conn.exec_driver_sql(
                "SELECT 1 FROM pg_database WHERE datname = %s", (base.database,)
            ).first()
            if not found:
                conn.exec_driver_sql(f'CREATE DATABASE "{base.database}"')
    finally:
        admin.dispose()


def postgres_available(url: str = POSTGRES_URL) -> tuple[bool, str]:
    try:
        import sqlalchemy

        if WORKER:
            _create_database(url)
        engine = sqlalchemy.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        engine.dispose()
        return True, ""
    except Exception as exc:  # noqa: BLE001 - any failure means "not available here"
        return False, f"{url}: {exc.__class__.__name__}: {exc}"[:300]


def redis_available(url: str = REDIS_URL) -> tuple[bool, str]:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        return True, ""
    except Exception as exc:  # noqa: BLE001
        return False, f"{url}: {exc.__class__.__name__}: {exc}"[:300]


@pytest.fixture(scope="session")
def postgres_url() -> str:
    ok, reason = postgres_available()
    require_component("PostgreSQL", ok, reason)
    return POSTGRES_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    ok, reason = redis_available()
    require_component("Redis", ok, reason)
    return REDIS_URL


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("PERCEPTION_TEST_DATABASE_URL")
    if not url:
        return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")
    if not WORKER:
        return url
    # Each worker drops and creates the tables of a database of its own.
    if url.startswith("sqlite"):
        return f"{url}.{WORKER}"
    url = _postgres_of_this_worker(url)
    _create_database(url)
    return url


class FreshContextClient(FlaskClient):
    """Each request gets its own app context (so its own ``g`` and session), as in production,
    even while the test itself holds an app context for direct database access."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Any]:
    from perception import create_app
    from perception.core import security
    from perception.core.extensions import db

    # Fast hashing in tests only; production keeps argon2's recommended parameters.
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    instance = tmp_path_factory.mktemp("instance")
    os.environ["PERCEPTION_INSTANCE_PATH"] = str(instance)
    application = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret-key-which-is-long-enough-0123456789",
            "REDIS_URL": None,
            "JOBS_BACKGROUND": False,  # another connection cannot see the rolled-back test data
            "MAIL_BACKEND": "file",
            "SERVER_NAME": None,
            "STRICT_READERS": True,
        }
    )
    application.test_client_class = FreshContextClient
    with application.app_context():
        db.drop_all()
        db.create_all()
    yield application
    with application.app_context():
        db.engine.dispose()


@contextmanager
def rolled_back(app: Any) -> Iterator[orm.scoped_session[orm.Session]]:
    """In an app context of ``app``: db.session bound to one connection inside a transaction that
    is rolled back at the end (the app's commits become SAVEPOINT releases); yields db.session."""
    from flask_sqlalchemy.session import _app_ctx_id

    from perception.core.extensions import db

    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        factory = orm.sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        db.session = orm.scoped_session(factory, scopefunc=_app_ctx_id)
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            if outer.is_active:
                outer.rollback()
            connection.close()


@pytest.fixture
def db_session(app: Any) -> Iterator[orm.Session]:
    """db.session bound to one connection inside a transaction that is rolled back afterwards."""
    with rolled_back(app) as session:
        yield session


@pytest.fixture
def client(app: Any, db_session: orm.Session) -> Any:
    return app.test_client()


@pytest.fixture
def runner(app: Any, db_session: orm.Session) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def fresh_app(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An app of its own on an empty SQLite file (no tables), for the ``perception`` commands."""
    from perception import create_app
    from perception.core.extensions import db

    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path))
    application = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/cli.sqlite"})
    yield application
    with application.app_context():
        db.engine.dispose()


_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(client: Any, path: str = "/login") -> str:
    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = _TOKEN.search(html)
    assert match, f"no csrf token on {path}"
    return match.group(1) or match.group(2)


def post_form(
    client: Any, path: str, data: dict[str, Any] | None = None, *, token_from: str = "/", **kw: Any
) -> Any:
    """POST a form the way a browser does: with the CSRF token from a page of this session."""
    body = dict(data or {})
    body["csrf_token"] = csrf_token(client, token_from)
    return client.post(path, data=body, **kw)


@pytest.fixture
def org(db_session: orm.Session) -> dict[str, Any]:
    """Two regions, each with a collection point and a customer; small and explicit."""
    from perception.core.models.org import CollectionPoint, Contact, CustomerOrg, Region

    out: dict[str, Any] = {}
    for code, zh, en in (("R1", "北京", "Beijing"), ("R2", "上海", "Shanghai")):
        region = Region(code=code, name_zh=zh, name_en=en)
        db_session.add(region)
        db_session.flush()
        point = CollectionPoint(
            code=f"CP-{code}", name_zh=f"{zh}组", name_en=f"{en} team", region_id=region.id
        )
        customer = CustomerOrg(
            code=f"{code}-C", name_zh=f"{zh}客户", name_en=f"{en} customer", region_id=region.id
        )
        db_session.add_all([point, customer])
        db_session.flush()
        contact = Contact(
            customer_id=customer.id,
            region_id=region.id,
            name=f"{en} contact",
            email=f"{code.lower()}@example.com",
        )
        db_session.add(contact)
        db_session.flush()
        out[code] = {"region": region, "point": point, "customer": customer, "contact": contact}
    return out


PASSWORD = "correct horse battery"


@pytest.fixture
def make_user(db_session: orm.Session, org: dict[str, Any]) -> Callable[..., Any]:
    from perception.core import users
    from perception.core.models.auth import Role

    def make(username: str, *roles: Role | str, region: str = "R1", **kw: Any) -> Any:
        parsed = frozenset(Role(r) for r in roles)
        if Role.COLLECTOR in parsed:
            kw.setdefault("collection_point_id", org[region]["point"].id)
        if Role.CUSTOMER_REP in parsed:
            kw.setdefault("customer_id", org[region]["customer"].id)
        return users.create_user(
            db_session,
            users.UserSpec(
                username=username, display_name=username.title(), roles=parsed, password=PASSWORD, **kw
            ),
        )

    return make


def login(client: Any, username: str, password: str = PASSWORD) -> Any:
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(client, "/login")},
    )


@pytest.fixture
def login_as(app: Any, make_user: Callable[..., Any]) -> Callable[..., Any]:
    """A fresh test client signed in as a new user with the given roles."""

    def _login(*roles: Any, username: str | None = None, region: str = "R1", **kw: Any) -> Any:
        name = username or "u_" + "_".join(str(r) for r in roles) + "_" + region.lower()
        user = make_user(name, *roles, region=region, **kw)
        c = app.test_client()
        response = login(c, name)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        c.user = user
        return c

    return _login


@pytest.fixture(scope="session")
def demo_databases(app: Any, database_url: str) -> Iterator[Any]:
    """The demo databases of this process (tests/e2e/demo_live.py ``DemoSessions``), each built
    the first time a test asks, on the test database's kind, served with the test app's settings."""
    from tests.e2e.demo_live import DemoSessions

    keys = ("TESTING", "SECRET_KEY", "JOBS_BACKGROUND", "MAIL_BACKEND", "SERVER_NAME", "STRICT_READERS")
    sessions = DemoSessions(database_url, {key: app.config[key] for key in keys})
    yield sessions
    sessions.close()


@pytest.fixture(scope="module")
def walk_world(demo_databases: Any) -> Iterator[Any]:
    """The route walk's small demo with every role signed in (tests/route_walk.py), built once per
    process, in a transaction rolled back after the module."""
    from tests.route_walk import demo_world

    with demo_world(demo_databases.walk_app(), load=False) as world:
        yield world


@pytest.fixture(autouse=True, scope="module")
def _no_job_threads_outlive_their_module() -> Iterator[None]:
    """After each test module, stop the job sweepers and threads its apps started: a sweeper of a
    demo server or fault-test app living on would keep taking the process's SQLite writer turn
    every few seconds, and later tests would wait for it."""
    yield
    from perception.core.jobs.runner import stop_all_threads

    stop_all_threads()
