"""GET requests that write a little, against gunicorn on SQLite while three other writers write.

Before one transaction per request, a GET began a deferred (reading) transaction and then wrote:
an API token's last-use stamp, the audit row of a denied access, an export's audit row. When
another process had committed in between, SQLite refused the upgrade at once ("database is
locked", no waiting) and the user got a 500: 11-28 of 90 token-authenticated GETs, 5 of 30
exports. Now readers never write (the stamp and the denial's audit row are written after the
request in their own write transaction) and an export is a writer from its first statement.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.test_server_start import HANG_GUARD, _free_port, _output

# Serves its own SQLite file whatever the database setting: CI runs it in the SQLite pass only.
pytestmark = pytest.mark.own_sqlite

ROUNDS = 30  # per kind of request and client thread
CLIENTS = 3


def _prepare(instance: Path, db_url: str) -> dict[str, list[str]]:
    """A fresh database with an owner, an analyst and a collector, and API tokens for them."""
    from perception import create_app
    from perception.core import users
    from perception.core.audit import acting_as
    from perception.core.extensions import db
    from perception.core.models.auth import Role
    from perception.core.models.org import CollectionPoint, Region
    from perception.core.transaction import unit_of_work

    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "x" * 40})
    tokens: dict[str, list[str]] = {"analyst": [], "owner": [], "collector": []}
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        with acting_as("test"), unit_of_work() as session:
            region = Region(code="R1", name_zh="一区", name_en="Region 1")
            session.add(region)
            session.flush()
            point = CollectionPoint(
                code="CP-R1", name_zh="一区采集点", name_en="R1 point", region_id=region.id
            )
            session.add(point)
            session.flush()
            people = {
                "analyst": users.UserSpec(
                    username="analyst",
                    display_name="Analyst",
                    roles=frozenset({Role.ANALYST}),
                    password="p" * 12,
                ),
                "owner": users.UserSpec(
                    username="owner",
                    display_name="Owner",
                    roles=frozenset({Role.SYSTEM_OWNER}),
                    password="p" * 12,
                ),
                "collector": users.UserSpec(
                    username="collector",
                    display_name="Collector",
                    roles=frozenset({Role.COLLECTOR}),
                    password="p" * 12,
                    collection_point_id=point.id,
                ),
            }
            for role, spec in people.items():
                user = users.create_user(session, spec)
                # Many tokens, each used for the first time during the run: many last-use stamps.
                for i in range(ROUNDS * CLIENTS):
                    tokens[role].append(users.issue_token(session, user, f"t{i}")[1])
        db.engine.dispose()
    return tokens


def _writer(path: str, name: str, stop: threading.Event, counts: Counter[str]) -> None:
    """Another process's kind of writer: short write transactions, one after another."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    i = 0
    while not stop.is_set():
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO scheduled_run (job_name, slot, enqueued_at, status) "
            "VALUES (?, ?, CURRENT_TIMESTAMP, 'done')",
            (name, str(i)),
        )
        time.sleep(0.002)  # hold the lock a little, as a real write does
        conn.execute("COMMIT")
        counts[name] += 1
        i += 1
        time.sleep(0.02)  # then some other work: together the writers hold the lock ~25% of the time
    conn.close()


def _open(opener: urllib.request.OpenerDirector, url: str, data: bytes | None = None) -> int:
    try:
        with opener.open(url, data=data, timeout=60) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code
    except OSError:
        return -1


def _signed_in(base: str, username: str) -> urllib.request.OpenerDirector:
    """A browser-like client: its own cookie jar, signed in through the sign-in form."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(base + "/login", timeout=60) as resp:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', resp.read().decode()).group(1)
    form = {"username": username, "password": "p" * 12, "csrf_token": token}
    assert _open(opener, base + "/login", urllib.parse.urlencode(form).encode()) == 200
    return opener


def _get(base: str, path: str, token: str) -> int:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:  # noqa: S310 - loopback http
            resp.read()
            return resp.status
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code
    except OSError:  # no answer at all (timed out, connection reset): counted, never lost
        return -1


@pytest.mark.slow
def test_gets_that_write_never_fail_while_others_write(tmp_path):
    db_path = tmp_path / "perception.sqlite"
    db_url = f"sqlite:///{db_path}"
    env = {
        **os.environ,
        "PERCEPTION_INSTANCE_PATH": str(tmp_path),
        "PERCEPTION_DATABASE_URL": db_url,
        "PERCEPTION_SECRET_KEY": "s" * 48,
    }
    env.pop("PERCEPTION_REDIS_URL", None)
    old = os.environ.get("PERCEPTION_INSTANCE_PATH")
    os.environ["PERCEPTION_INSTANCE_PATH"] = str(tmp_path)
    try:
        tokens = _prepare(tmp_path, db_url)
    finally:
        if old is None:
            os.environ.pop("PERCEPTION_INSTANCE_PATH", None)
        else:
            os.environ["PERCEPTION_INSTANCE_PATH"] = old

    port = _free_port()
    log = tmp_path / "gunicorn.log"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "-w", "2", "-k", "gthread", "--threads", "4", "-b", f"127.0.0.1:{port}"]
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603 - our own interpreter's gunicorn
            [*command, "perception:create_app()"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    writes: Counter[str] = Counter()
    statuses: Counter[tuple[str, int]] = Counter()
    try:
        deadline = time.monotonic() + HANG_GUARD
        while _healthy(base) is False:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not serve; its output:\n{_output(log)}")
            time.sleep(0.1)

        writers = [
            threading.Thread(target=_writer, args=(str(db_path), f"writer{i}", stop, writes))
            for i in range(3)
        ]
        for thread in writers:
            thread.start()

        def client(n: int) -> None:
            browser = _signed_in(base, "analyst")  # the analyst's CSV exports, with a session cookie
            for i in range(ROUNDS):
                k = n * ROUNDS + i
                statuses["token", _get(base, "/api/v1/kpi/definitions", tokens["analyst"][k])] += 1
                statuses["denied", _get(base, "/api/v1/audit", tokens["collector"][k])] += 1
                statuses["export", _get(base, "/api/v1/setup/export", tokens["owner"][k])] += 1
                statuses["csv", _open(browser, base + "/analysis/export/watermelons.csv")] += 1

        clients = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
    finally:
        stop.set()
        server.terminate()
        server.wait(30)
    for thread in writers:
        thread.join()

    total = ROUNDS * CLIENTS
    expected = {("token", 200): total, ("denied", 403): total, ("export", 200): total, ("csv", 200): total}
    assert statuses == Counter(expected), (
        dict(statuses),
        _output(log),
    )
    assert min(writes.values()) > 0  # the writers really wrote during the run
    conn = sqlite3.connect(db_path)
    audit = dict(conn.execute("SELECT action, COUNT(*) FROM audit_entry GROUP BY action").fetchall())
    stamped = conn.execute("SELECT COUNT(*) FROM api_token WHERE last_used_at IS NOT NULL").fetchone()[0]
    conn.close()
    assert audit.get("permission_denied") == total  # every refusal is in the audit log
    assert audit.get("export") == 2 * total  # the setup exports and the CSV exports
    assert stamped == 3 * total  # every token's first use was stamped


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=5) as resp:  # noqa: S310 - loopback http
            return json.loads(resp.read()).get("status") == "ok" or resp.status == 200
    except (OSError, ValueError):
        return False
