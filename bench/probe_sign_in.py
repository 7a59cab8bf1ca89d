"""Probe: the sign-in and survey-link figures of issue 18, against gunicorn as the README deploys it.

Per backend and worker count: 50 browsers send a wrong password for one account at the same moment
(limit LOGIN_MAX_FAILURES_PER_ACCOUNT = 5) and the probe counts how many passwords the server
checked (audit rows ``login_failed``; the rest must be 429 unchecked); 50 unknown survey links from
one address at once (limit 30) and how many were answered 404 rather than 429; a session cookie
copied before sign-out and replayed after it; a session cookie forged with the public default key.
The issue's probe found 6 (2 workers) and 8 (4 workers) checks for 5, and 31 link tries for 30.

Run: python bench/probe_sign_in.py [--backend sqlite|postgres|both] [--workers 2 4] [--parallel 50]
PostgreSQL comes from PERCEPTION_TEST_POSTGRES_URL (a schema of its own, dropped afterwards).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
OWNER, OWNER_PASSWORD = "owner", "owner password for the probe"
KEY = secrets.token_urlsafe(48)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def _browser() -> tuple[urllib.request.OpenerDirector, http.cookiejar.CookieJar]:
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect()), jar


def _status(
    opener: urllib.request.OpenerDirector, url: str, data: dict[str, str] | None = None
) -> tuple[int, str]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with opener.open(url, data=body, timeout=120) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def _csrf(opener: urllib.request.OpenerDirector, base: str) -> str:
    match = CSRF.search(_status(opener, base + "/login")[1])
    assert match, "no CSRF token on /login"
    return match.group(1)


def _together(count: int, attempt) -> list[int]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(count)
    out = [0] * count

    def run(i: int) -> None:
        barrier.wait()
        out[i] = attempt(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return out


def _sign_out(opener: urllib.request.OpenerDirector, base: str) -> None:
    match = CSRF.search(_status(opener, base + "/")[1])
    assert match, "not signed in"
    _status(opener, base + "/logout", {"csrf_token": match.group(1)})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(env: dict[str, str], workers: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603 - our own interpreter's gunicorn
            [str(gunicorn), "-w", str(workers), "-b", f"127.0.0.1:{port}", "perception:create_app()"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(base + "/healthz", timeout=5).close()  # noqa: S310 - loopback
            return server, base
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not serve:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.2)


def _count(url: str, action: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT count(*) FROM audit_entry WHERE action = :a"), {"a": action}
        ).scalar()
    engine.dispose()
    return int(found or 0)


def probe(backend: str, workers: int, parallel: int) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="probe-sign-in-"))
    schema = None
    if backend == "postgres":
        pg = os.environ.get(
            "PERCEPTION_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )
        schema = f"probe_{secrets.token_hex(4)}"
        with create_engine(pg).begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{pg}?options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{folder}/probe.sqlite"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERCEPTION_")}
    env.update(PERCEPTION_INSTANCE_PATH=str(folder), PERCEPTION_DATABASE_URL=url, PERCEPTION_SECRET_KEY=KEY)
    init = [sys.executable, "-m", "perception.cli", "init", "--admin-username", OWNER]
    subprocess.run(
        [*init, "--admin-password", OWNER_PASSWORD], env=env, check=True, capture_output=True, cwd=folder
    )  # noqa: S603
    server, base = _serve(env, workers, folder / "gunicorn.log")
    try:
        # 0. The owner's usual browser signs in once (it gets the device cookie) and out again.
        owner, jar = _browser()
        owner_login = {"username": OWNER, "password": OWNER_PASSWORD}
        _status(owner, base + "/login", {**owner_login, "csrf_token": _csrf(owner, base)})
        _sign_out(owner, base)
        # 1. Simultaneous wrong passwords for one account.
        browsers = [_browser()[0] for _ in range(parallel)]
        tokens = [_csrf(b, base) for b in browsers]
        logins = _together(
            parallel,
            lambda i: _status(browsers[i], base + "/login",
                              {"username": OWNER, "password": f"wrong {i}", "csrf_token": tokens[i]})[0],
        )  # fmt: skip
        checked = _count(url, "login_failed")
        # 2. Simultaneous unknown survey links from one address.
        guessers = [_browser()[0] for _ in range(parallel)]
        links = _together(
            parallel, lambda i: _status(guessers[i], f"{base}/s/t/{secrets.token_urlsafe(32)}")[0]
        )
        # 2b. The account is locked for strangers now; the owner's usual browser still signs in.
        stranger = _browser()[0]
        locked = _status(stranger, base + "/login", {**owner_login, "csrf_token": _csrf(stranger, base)})[0]
        usual = _status(owner, base + "/login", {**owner_login, "csrf_token": _csrf(owner, base)})[0]
        # 3. A cookie copied before sign-out, replayed after it.
        session = next((c.value for c in jar if c.name == "session"), "")
        thief = _browser()[0]
        thief.addheaders = [("Cookie", f"session={session}")]
        before = _status(thief, base + "/admin/users")[0]
        _sign_out(owner, base)
        after = _status(thief, base + "/admin/users")[0]
    finally:
        server.terminate()
        server.wait(30)
        if schema:
            with create_engine(env["PERCEPTION_DATABASE_URL"].split("?")[0]).begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    return {
        "backend": backend, "workers": workers,
        "passwords checked": f"{checked} of {parallel} (limit 5; {logins.count(429)} answered 429)",
        "unknown links answered 404": f"{links.count(404)} of {parallel} (limit 30; "
        f"{links.count(429)} answered 429)",
        "right password, stranger / usual browser": f"{locked} / {usual}",
        "copied cookie before / after sign-out": f"{before} / {after}",
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--parallel", type=int, default=50)
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]}")
    for backend in backends:
        for workers in args.workers:
            for key, value in probe(backend, workers, args.parallel).items():
                print(f"{key:>40}: {value}")
            print()
    print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
