"""Survey-history import throughput on SQLite (issue 16: 100,000 responses in under 30 s).

    python bench/bench_history_import.py [--rows 100000] [--repeat 3]

A fresh SQLite schema with the ticket bench's organisation and the built-in transactional CSAT
questionnaire; a CSV of ``--rows`` responses over 26 weeks (csat, ces, a comment on every fifth,
low reasons where csat <= 2). Alternating in one run, each ``--repeat`` times on a fresh schema:
- baseline: the same response rows inserted raw (executemany) into the response table with no
  validation and no facts (the ceiling);
- import: perception.surveys.services.history_import.import_responses (read, check every row
  against the questionnaire, insert responses and their facts, audit), then the same file again
  (the idempotent path: every row unchanged).
Prints medians in seconds and the load average.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))
from bench_ticket_import import REGIONS, make_app, seed_org  # noqa: E402

HEADER = ("source_id", "submitted_at", "language", "customer", "csat", "low_reasons", "ces", "improve")


def response_rows(n: int, seed: int = 11) -> list[tuple[str, ...]]:
    rng = random.Random(seed)
    end = datetime(2026, 11, 16)
    out = []
    for i in range(n):
        region = REGIONS[i % 12]
        csat = rng.choices((1, 2, 3, 4, 5), (3, 5, 12, 40, 40))[0]
        moment = end - timedelta(seconds=rng.randrange(26 * 7 * 86400))
        out.append(
            (
                f"R{i:08d}",
                moment.strftime("%Y-%m-%d %H:%M:%S"),
                "zh" if i % 3 else "en",
                f"{region}-{('BANK', 'GRID', 'HOSP')[i // 12 % 3]}",
                str(csat),
                "slow_response;not_fixed" if csat <= 2 else "",
                str(rng.randint(1, 7)),
                "响应太慢，希望改进" if i % 5 == 0 else "",
            )
        )
    return out


def csv_data(rows: list[tuple[str, ...]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def fresh(app: Any) -> int:
    from perception.core.extensions import db
    from perception.core.models.base import utcnow
    from perception.surveys.services.campaigns import create_campaign
    from perception.surveys.services.definitions import ensure_builtin_surveys

    with app.app_context():
        db.drop_all()
        db.create_all()
        seed_org(db.session)
        versions = ensure_builtin_surveys(db.session)
        now = utcnow()
        campaign = create_campaign(
            db.session,
            {"code": "HIST", "name_zh": "历史", "name_en": "History",
             "version_id": versions["csat_transactional"].id, "channel": "personal", "region_id": None,
             "opens_at": now - timedelta(days=400),
             "closes_at": now + timedelta(days=1)},
            None,
        )  # fmt: skip
        db.session.commit()
        return campaign.id


def baseline(app: Any, campaign_id: int, rows: list[tuple[str, ...]]) -> float:
    from perception.core.extensions import db

    with app.app_context():
        conn = db.session.connection()
        version = conn.exec_driver_sql(
            "SELECT version_id FROM survey_campaign WHERE id = ?", (campaign_id,)
        ).scalar()
        tuples = [
            (campaign_id, version, 1, "survey", r[2], json.dumps({"csat": int(r[4]), "ces": int(r[6])}),
             "import:" + r[0], r[1], r[1][:10])
            for r in rows
        ]  # fmt: skip
        start = time.perf_counter()
        conn.connection.driver_connection.cursor().executemany(
            "INSERT INTO survey_response (campaign_id, version_id, region_id, means, language, answers, "
            "submission_nonce, submitted_at, observed_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            tuples,
        )
        seconds = time.perf_counter() - start
        db.session.rollback()
    return seconds


def timed_import(app: Any, campaign_id: int, data: bytes) -> tuple[float, Any]:
    from perception.core.clock import DEFAULT_TIMEZONE
    from perception.core.extensions import db
    from perception.kpi.services.ticket_import import ImportOptions
    from perception.surveys.models import Campaign
    from perception.surveys.services.history_import import import_responses

    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        start = time.perf_counter()
        result = import_responses(
            db.session, campaign, ImportOptions(dry_run=False), org_timezone=DEFAULT_TIMEZONE, data=data
        )
        db.session.commit()
        return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = response_rows(args.rows)
    data = csv_data(rows)
    folder = tempfile.mkdtemp(prefix="history-bench-")
    os.environ["PERCEPTION_INSTANCE_PATH"] = folder
    app = make_app(f"sqlite:///{folder}/bench.sqlite")
    base, first, again = [], [], []
    for _ in range(args.repeat):
        campaign_id = fresh(app)
        base.append(baseline(app, campaign_id, rows))
        seconds, result = timed_import(app, campaign_id, data)
        assert result.rows_new == args.rows, result
        first.append(seconds)
        seconds, result = timed_import(app, campaign_id, data)
        assert result.rows_unchanged == args.rows, result
        again.append(seconds)
    with open("/proc/loadavg") as load:
        print(f"load average: {load.read().split()[:3]}")
    print(f"{args.rows:,} responses, SQLite, median of {args.repeat}:")
    print(f"  baseline raw insert (no checks, no facts): {statistics.median(base):6.2f} s")
    print(f"  import (new):                              {statistics.median(first):6.2f} s")
    print(f"  import again (all unchanged):              {statistics.median(again):6.2f} s")


if __name__ == "__main__":
    main()
