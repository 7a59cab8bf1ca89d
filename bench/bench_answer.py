"""Benchmark: the survey answer endpoint against a bare Flask endpoint inserting the same rows.

The answer endpoint (POST /s/r, the final page of a personal link) does everything a real
submission does: session cookie, CSRF check, page form and answer validation, honeypot, token
consumption with the conditional UPDATE, idempotency (nonce), the response, its facts, a
follow-up task for low scores, the audit row. The baseline (bench/answer_app.py ``bare``) only
inserts the same rows. Both run in the same invocation under gunicorn and are driven by wrk with
16 connections, each request a distinct prepared submission (bench/answer_wrk.lua).

Run: python bench/bench_answer.py [--backend sqlite|postgres|both] [--seconds 10] [--workers 2] [--threads N]
Each backend is served as the README deploys it: SQLite on one machine with gthread workers of four
threads (keep-alive), PostgreSQL with sync workers. --threads overrides both (0 = sync workers).
Prints requests/s and latency percentiles per backend and endpoint, and checks that every
completed request stored exactly one response.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
VENV_BIN = Path(sys.executable).parent
PG_ADMIN = os.environ.get("PERCEPTION_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SECRET = "bench-secret-key-which-is-long-enough-0123456789abcdef"  # noqa: S105 - a throwaway bench instance
COMMENTS = ("希望工程师上门前先电话确认。", "Quick fix, thanks.", "响应很及时。")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_url() -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS perception_bench WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE perception_bench"))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/perception_bench"


def _answers(rng: random.Random) -> dict[str, Any]:
    csat = rng.choices((1, 2, 3, 4, 5), weights=(4, 6, 20, 35, 35))[0]
    out: dict[str, Any] = {"csat": csat, "ces": rng.randint(1, 7)}
    if csat <= 2:
        out["low_reasons"] = ["slow_response", "not_fixed"][: rng.randint(1, 2)]
    if rng.random() < 0.3:
        out["improve"] = rng.choice(COMMENTS)
    return out


def prepare(env: dict[str, str], counts: dict[str, int], folder: Path) -> dict[str, Path]:
    """Create the schema, a campaign and invitations; write one request file per run."""
    os.environ.update(env)
    from flask import g, session
    from flask_wtf.csrf import generate_csrf
    from sqlalchemy import insert

    from perception import create_app
    from perception.core.extensions import db, orm
    from perception.core.models.base import utcnow
    from perception.core.models.org import Contact, CustomerOrg, Region
    from perception.surveys.models import CampaignStatus, Invitation, table_of
    from perception.surveys.services.campaigns import create_campaign
    from perception.surveys.services.definitions import ensure_builtin_surveys

    app = create_app()
    rng = random.Random(7)
    files: dict[str, Path] = {}
    with app.app_context():
        db.drop_all()
        db.create_all()
        region = Region(code="BENCH", name_zh="压测", name_en="Bench")
        db.session.add(region)
        db.session.flush()
        customer = CustomerOrg(code="BENCH-C", name_zh="客户", name_en="Customer", region_id=region.id)
        db.session.add(customer)
        db.session.flush()
        contacts = [
            Contact(customer_id=customer.id, region_id=region.id, name=f"c{i}", email=f"c{i}@example.com")
            for i in range(500)
        ]
        db.session.add_all(contacts)
        store = orm()
        version = ensure_builtin_surveys(store)["csat_transactional"]
        now = utcnow()
        campaign = create_campaign(
            store,
            {
                "code": "BENCH",
                "name_zh": "压测",
                "name_en": "Bench",
                "version_id": version.id,
                "region_id": region.id,
                "opens_at": now - timedelta(hours=1),
                "closes_at": now + timedelta(days=7),
            },
            None,
        )
        # Opened directly: open_campaign would also invite the 500 contacts by mail.
        campaign.status = CampaignStatus.OPEN
        db.session.flush()
        rows = [
            {
                "campaign_id": campaign.id,
                "contact_id": contacts[i % len(contacts)].id,
                "region_id": region.id,
                "customer_id": customer.id,
                "created_at": now,
                "sent_at": now,
                "expires_at": now + timedelta(days=7),
                "reminders_sent": 0,
            }
            for i in range(sum(counts.values()))
        ]
        ids = list(
            db.session.execute(
                insert(table_of(Invitation)).returning(
                    table_of(Invitation).c.id, sort_by_parameter_order=True
                ),
                rows,
            ).scalars()
        )
        db.session.commit()
        serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        start = 0
        for name, count in counts.items():
            path = folder / f"{name}.requests"
            with path.open("w") as out, app.test_request_context("/s/r"):
                for inv in ids[start : start + count]:
                    answers = _answers(rng)
                    if name.startswith("bare"):
                        body = {"v": version.id, **{k: v for k, v in answers.items() if k != "low_reasons"}}
                        out.write(f"\t/bare/{inv}\t{urlencode(body)}\n")
                        continue
                    session.clear()
                    g.pop("csrf_token", None)
                    session["survey_link"] = {"i": inv, "v": version.id, "f": version.fingerprint, "t": 0}
                    form = {
                        "csrf_token": generate_csrf(),
                        "submission_nonce": secrets.token_urlsafe(16),
                        "page": "0",
                    }
                    cookie = "session=" + serializer.dumps(dict(session))
                    out.write(f"{cookie}\t/s/r\t{urlencode({**form, **answers}, doseq=True)}\n")
            files[name] = path
            start += count
        db.session.remove()
        db.engine.dispose()
    return files


def _serve(
    target: str, env: dict[str, str], workers: int, threads: int
) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    cmd = [
        str(VENV_BIN / "gunicorn"),
        "--chdir",
        str(ROOT / "bench"),
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
        "--log-level",
        "warning",
        "--no-control-socket",
        "--preload",
    ]
    if threads > 0:  # else gunicorn's default sync workers
        cmd += ["-k", "gthread", "--threads", str(threads)]
    # --preload: the master imports the app (seconds: scipy, jieba, ...) before it listens and
    # forks, so no request of the measured run waits for a worker to finish importing.
    proc = subprocess.Popen([*cmd, f"answer_app:{target}"], env={**os.environ, **env})
    for _ in range(1200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    time.sleep(0.5)
    return proc, port


def wrk(port: int, requests: Path, seconds: int, connections: int = 16, threads: int = 2) -> dict[str, Any]:
    env = {**os.environ, "ANSWER_REQUESTS": str(requests), "ANSWER_THREADS": str(threads)}
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(ROOT / "bench" / "answer_wrk.lua"),
            f"http://127.0.0.1:{port}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    total = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": ms("50"),
        "p90": ms("90"),
        "p99": ms("99"),
        "requests": int(total.group(1)) if total else 0,
        "errors": int(errors.group(1)) if errors else 0,
        "socket": sock.group(1) if sock else "none",
    }


def _stored(env: dict[str, str]) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(env["PERCEPTION_DATABASE_URL"])
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM survey_response")).scalar_one()
    engine.dispose()
    return int(n)


def run(
    backend: str, seconds: int, rounds: int, workers: int, threads: int
) -> dict[str, list[dict[str, Any]]]:
    """Both servers run side by side; the measured runs alternate bare, full, bare, full ... so a
    change in the machine's load (other processes share it) hits both endpoints alike."""
    folder = Path(tempfile.mkdtemp(prefix="bench_answer_"))
    url = f"sqlite:///{folder / 'bench.sqlite'}" if backend == "sqlite" else _pg_url()
    env = {
        "PERCEPTION_DATABASE_URL": url,
        "PERCEPTION_INSTANCE_PATH": str(folder / "instance"),
        "PERCEPTION_SECRET_KEY": SECRET,
        "PERCEPTION_SURVEY_MIN_FILL_SECONDS": "0",
    }
    per_run = (2500 if backend == "sqlite" else 1500) * seconds
    counts = {"bare_warm": 3000, "full_warm": 3000}
    for i in range(rounds):
        counts[f"bare_{i}"] = per_run
        counts[f"full_{i}"] = per_run
    t0 = time.perf_counter()
    files = prepare(env, counts, folder)
    print(
        f"[{backend}] {sum(counts.values())} invitations and requests prepared "
        f"in {time.perf_counter() - t0:.0f} s"
    )
    servers = {
        name: _serve(target, env, workers, threads) for name, target in (("bare", "bare"), ("full", "app"))
    }
    results: dict[str, list[dict[str, Any]]] = {"bare": [], "full": []}
    try:
        for name, (_, port) in servers.items():
            wrk(port, files[f"{name}_warm"], 2)
        for i in range(rounds):
            for name, (_, port) in servers.items():
                before = _stored(env)
                result = wrk(port, files[f"{name}_{i}"], seconds)
                result["stored"] = _stored(env) - before
                results[name].append(result)
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(30)
    shutil.rmtree(folder, ignore_errors=True)
    return results


# As the README deploys: one SQLite machine keeps connections alive (gthread, four threads, so a
# worker holding more connections does not queue them while the other idles: bench_flow.py);
# PostgreSQL web nodes run sync workers (balanced per request, the lower p99).
DEPLOYED_THREADS = {"sqlite": 4, "postgres": 0}


def median(rows: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, default=None, help="gthread threads per worker (0 = sync workers)"
    )
    args = parser.parse_args()
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    print(f"{os.cpu_count()} CPUs, load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"gunicorn {args.workers} workers; wrk 2 threads, 16 connections; "
        f"{args.rounds} alternating rounds of {args.seconds} s per endpoint; medians"
    )
    header = (
        f"{'backend':9} {'endpoint':9} {'req/s':>7} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'non-3xx':>7}"
    )
    print(header + "  stored/requests  rounds (req/s)")
    for backend in backends:
        threads = DEPLOYED_THREADS[backend] if args.threads is None else args.threads
        print(f"[{backend}] " + (f"gthread workers x {threads} thread(s)" if threads else "sync workers"))
        results = run(backend, args.seconds, args.rounds, args.workers, threads)
        for name, rows in results.items():
            errors = sum(r["errors"] for r in rows)
            stored = sum(r["stored"] for r in rows)
            done = sum(r["requests"] for r in rows)
            each = ", ".join(f"{r['rps']:.0f}" for r in rows)
            print(
                f"{backend:9} {name:9} {median(rows, 'rps'):7.0f} {median(rows, 'p50'):7.1f} "
                f"{median(rows, 'p90'):7.1f} {median(rows, 'p99'):7.1f} {errors:7d}  {stored}/{done}  {each}"
            )
        ratio = median(results["full"], "rps") / max(median(results["bare"], "rps"), 1.0)
        print(f"{backend:9} full / bare throughput: {ratio:.2f}")
    print(
        f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
        "(other processes share the CPUs)"
    )


if __name__ == "__main__":
    main()
