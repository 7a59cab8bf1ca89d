"""Benchmark of the analysis pages on PostgreSQL at the issue's scale, and of the text analysis.

    python bench/bench_analysis.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/bench_analysis]
                                   [--responses 1000000] [--texts 200000] [--text-run 100000] [--keep]

Builds (unless --keep finds it already filled) a database of 52 ISO weeks x 12 regions x 6
services x 36 customers with ``--responses`` survey responses (each a CSAT answer; a quarter also
answer NPS and a quarter rate the six dimensions, about 2.75 observations per response), weekly
KPI values linked to experience standards, and ``--texts`` Chinese/English comments, written with
COPY. Then times, with a warm cache, the overview and the KPI-versus-experience services (which is
what the pages call; rendering adds a few ms, charts are separate image requests) for the default
period (14 weeks) and the whole year, for all regions and for one region, and finally one
``run_text_analysis`` over the newest ``--text-run`` entries. Prints one line per figure.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WEEKS = 52
PASSWORD = "bench-password-123"  # noqa: S105 - a throw-away benchmark user
PHRASES = (
    "希望能支持微信报修",
    "手机端报修功能什么时候上线",
    "驻场工程师经常换人",
    "备件更换太慢了",
    "培训时间太短内容太多",
    "希望每月提供服务报告",
    "工程师响应很快问题当天解决",
    "服务态度很好沟通清楚",
    "打印机经常卡纸",
    "网络晚上经常断",
    "邮箱容量不够用",
    "系统升级后很卡",
    "到场时间太晚",
    "希望增加夜间值班",
    "报表导出很慢",
    "VPN 连接不稳定",
    "账号权限申请流程太长",
    "会议室投影经常坏",
    "please support mobile repair requests",
    "onsite engineer was late again",
    "spare parts take too long",
    "monthly report should include SLA attainment",
    "quick and friendly, thank you",
    "the fix did not last",
)


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--url",
        default=os.environ.get(
            "BENCH_ANALYSIS_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_analysis"
        ),
    )
    p.add_argument("--responses", type=int, default=1_000_000)
    p.add_argument("--texts", type=int, default=200_000)
    p.add_argument("--text-run", type=int, default=100_000)
    p.add_argument("--keep", action="store_true", help="reuse the database when it is already filled")
    p.add_argument("--repeat", type=int, default=5)
    return p.parse_args()


def _copy(conn: object, table: str, columns: list[str], rows: object) -> None:
    buf = io.StringIO()
    for row in rows:  # type: ignore[attr-defined]
        buf.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
    buf.seek(0)
    raw = conn.connection.dbapi_connection  # type: ignore[attr-defined]
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        while chunk := buf.read(1 << 20):
            copy.write(chunk)


def build(session: object, n_responses: int, n_texts: int, end: date) -> None:
    from perception.core.models.org import CustomerOrg, Region
    from perception.kpi.models import KpiDefinition
    from perception.setup.models.catalog import Service
    from perception.setup.models.standards import ServiceStandard, StandardVersion

    rng = np.random.default_rng(1)
    regions = [Region(code=f"R{i:02d}", name_zh=f"地区{i}", name_en=f"Region {i}") for i in range(12)]
    services = [Service(code=f"S{i}", name_zh=f"服务{i}", name_en=f"Service {i}") for i in range(6)]
    session.add_all(regions + services)  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    customers = [
        CustomerOrg(
            code=f"C{i:02d}", name_zh=f"客户{i}", name_en=f"Customer {i}", region_id=regions[i % 12].id
        )
        for i in range(36)
    ]
    session.add_all(customers)  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    definitions = []
    for s in services:
        exp = ServiceStandard(code=f"E-{s.code}", service_id=s.id, category="experience")
        kpi = ServiceStandard(code=f"K-{s.code}", service_id=s.id, category="efficiency")
        session.add_all([exp, kpi])  # type: ignore[attr-defined]
        session.flush()  # type: ignore[attr-defined]
        kpi.experience_standard_id = exp.id
        for std, metric, by, target in (
            (exp, "csat_share", "questionnaire", 0.85),
            (kpi, "resolution_within_target_share", "kpi", 0.9),
        ):
            session.add(
                StandardVersion(
                    standard_id=std.id,
                    version=1,
                    status="confirmed",
                    statement_zh="标准",
                    statement_en="standard",
                    metric=metric,
                    measured_by=by,
                    comparator=">=",
                    target=target,
                    effective_from=date(2000, 1, 1),
                )
            )  # type: ignore[attr-defined]  # noqa: E501
        d = KpiDefinition(
            code=f"KPI-{s.code}", name_zh=f"指标{s.code}", name_en=f"KPI {s.code}", standard_id=kpi.id
        )
        session.add(d)  # type: ignore[attr-defined]
        session.flush()  # type: ignore[attr-defined]
        definitions.append((d, s))
    session.flush()  # type: ignore[attr-defined]
    conn = session.connection()  # type: ignore[attr-defined]
    first = end - timedelta(weeks=WEEKS)
    weeks = [first + timedelta(weeks=i) for i in range(WEEKS)]
    kpi_rows = []
    for d, s in definitions:
        for r in regions:
            for w in weeks:
                value = float(np.clip(rng.normal(0.93, 0.03), 0, 1))
                kpi_rows.append(
                    (
                        d.id,
                        s.id,
                        r.id,
                        0,
                        "week",
                        w,
                        w + timedelta(days=7),
                        round(value, 4),
                        100,
                        0.9,
                        ">=",
                        value >= 0.9,
                        "computed",
                        "2026-01-01",
                    )
                )
    _copy(
        conn,
        "kpi_value",
        [
            "definition_id",
            "service_id",
            "region_id",
            "tier_key",
            "granularity",
            "period_start",
            "period_end",
            "value",
            "n",
            "target",
            "comparator",
            "met",
            "provenance",
            "stored_at",
        ],
        kpi_rows,
    )  # noqa: E501
    cust = rng.integers(0, 36, n_responses)
    svc = rng.integers(0, 6, n_responses)
    wk = rng.integers(0, WEEKS, n_responses)
    csat = rng.choice([1, 2, 3, 4, 5], n_responses, p=[0.03, 0.05, 0.14, 0.38, 0.40])
    dims = (
        "response_speed",
        "fault_handling",
        "deliverable_quality",
        "staff_attitude",
        "service_conformity",
        "training_effect",
    )
    cols = [
        "source",
        "source_id",
        "observed_on",
        "period_start",
        "region_id",
        "customer_id",
        "service_id",
        "kind",
        "dimension",
        "item",
        "value",
        "scale_min",
        "scale_max",
    ]  # noqa: E501

    def rows() -> object:
        for i in range(n_responses):
            c = customers[cust[i]]
            w = weeks[wk[i]]
            base = ("survey", i + 1, w, w, c.region_id, c.id, services[svc[i]].id)
            yield (*base, "csat", None, "csat", int(csat[i]), 1, 5)
            if i % 4 == 0:
                yield (*base, "nps", None, "nps", int(min(10, max(0, csat[i] * 2 + (i % 3) - 1))), 0, 10)
            if i % 4 == 1:
                for d in dims:
                    yield (*base, "likert", d, d, int(min(5, max(1, csat[i] + (i % 3) - 1))), 1, 5)

    t = time.perf_counter()
    _copy(conn, "experience_observation", cols, rows())
    print(f"built experience_observation: {n_responses:,} responses in {time.perf_counter() - t:.1f} s")
    pyrng = random.Random(2)
    text_cols = [
        "source",
        "source_id",
        "kind",
        "observed_on",
        "period_start",
        "region_id",
        "customer_id",
        "service_id",
        "text",
    ]

    def texts() -> object:
        for i in range(n_texts):
            c = customers[pyrng.randrange(36)]
            w = weeks[pyrng.randrange(WEEKS)]
            body = "，".join(pyrng.sample(PHRASES, 2)) + f"（{c.name_zh}第{pyrng.randrange(1, 50)}次）"
            yield (
                "survey",
                2_000_000 + i,
                "survey_comment",
                w,
                w,
                c.region_id,
                c.id,
                services[pyrng.randrange(6)].id,
                body,
            )

    _copy(conn, "text_entry", text_cols, texts())
    conn.exec_driver_sql("ANALYZE")


def _time(fn: object, repeat: int) -> tuple[float, float]:
    fn()  # type: ignore[operator]  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return statistics.median(times), max(times)


def main() -> None:
    args = _args()
    os.environ.setdefault("PERCEPTION_INSTANCE_PATH", "/tmp/bench_analysis_instance")
    from sqlalchemy import func, select

    from perception import create_app
    from perception.analysis.services.filters import AnalysisFilters
    from perception.analysis.services.kpi_experience import kpi_vs_experience
    from perception.analysis.services.overview import overview
    from perception.core.extensions import db
    from perception.core.models.facts import ExperienceObservation
    from perception.core.periods import week_start

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.url, "SECRET_KEY": "bench" * 10, "REDIS_URL": None})
    end = week_start(date.today()) + timedelta(weeks=1)
    with app.app_context():
        filled = False
        if args.keep:
            try:
                filled = (db.session.scalar(select(func.count()).select_from(ExperienceObservation)) or 0) > 0
            except Exception:  # noqa: BLE001 - no tables yet
                db.session.rollback()
        if filled:
            db.create_all()  # tables added since the data was built
        else:
            db.drop_all()
            db.create_all()
            build(db.session, args.responses, args.texts, end)
            db.session.commit()
        rows = db.session.scalar(select(func.count()).select_from(ExperienceObservation))
        print(f"experience_observation rows: {rows:,}")
        region = db.session.execute(select(func.min(ExperienceObservation.region_id))).scalar()
        cases = {
            "default 14 weeks, all regions": AnalysisFilters(start=end - timedelta(weeks=14), end=end),
            "52 weeks, all regions": AnalysisFilters(start=end - timedelta(weeks=52), end=end),
            "14 weeks, one region": AnalysisFilters(
                start=end - timedelta(weeks=14), end=end, region_ids=frozenset({region}), region_id=region
            ),
            "52 weeks, monthly grain": AnalysisFilters(
                start=end - timedelta(weeks=52), end=end, grain="month"
            ),
        }
        from perception.analysis.services.rollup import refresh_rollup

        t = time.perf_counter()
        built = refresh_rollup(db.session, force=True)
        db.session.commit()
        print(f"refresh_analysis_rollup: {built:,} rows in {time.perf_counter() - t:.1f} s")

        def run(fn: object, f: AnalysisFilters, use_rollup: bool) -> None:
            fn(db.session, f, use_rollup=use_rollup)  # type: ignore[operator]
            db.session.rollback()  # a request ends its transaction (SET LOCAL, snapshot)

        for source in ("rollup", "facts"):
            for name, fn in (("overview", overview), ("kpi_vs_experience", kpi_vs_experience)):
                for label, f in cases.items():
                    med, worst = _time(lambda fn=fn, f=f, s=source: run(fn, f, s == "rollup"), args.repeat)
                    print(
                        f"{name:18s} [{source:6s}] {label:30s} median {med * 1000:6.0f} ms"
                        f"  max {worst * 1000:6.0f} ms"
                    )
        client = app.test_client()
        from perception.core.models.auth import Role, User
        from perception.core.users import UserSpec, create_user

        if db.session.scalar(select(func.count()).select_from(User)) == 0:
            spec = UserSpec(
                username="bench", display_name="Bench", roles=frozenset({Role.MANAGER}), password=PASSWORD
            )
            create_user(db.session, spec)
            db.session.commit()
        from tests.conftest import login

        login(client, "bench", PASSWORD)
        for path in ("/analysis/overview", "/analysis/kpi-vs-experience"):
            med, worst = _time(lambda path=path: client.get(path), args.repeat)
            print(
                f"HTTP GET {path:28s} (default 14 weeks)  median {med * 1000:7.0f} ms"
                f"  max {worst * 1000:7.0f} ms"
            )
        if args.text_run:
            from perception.analysis.services.text_run import run_text_analysis
            from perception.analysis.services.text_settings import get_settings

            get_settings(db.session).max_entries = args.text_run
            load_before = os.getloadavg()
            t, cpu = time.perf_counter(), time.process_time()
            result = run_text_analysis(db.session)
            db.session.commit()
            # The machine may be shared: the CPU seconds of this process and the load average
            # say how much of the wall time was this run's own work.
            print(
                f"run_text_analysis  {result.n_entries:,} texts, {result.n_themes} themes, "
                f"{result.n_changed:,} rows written: {time.perf_counter() - t:.1f} s wall, "
                f"{time.process_time() - cpu:.1f} s CPU, load average {load_before[0]:.1f} before, "
                f"{os.getloadavg()[0]:.1f} after"
            )


if __name__ == "__main__":
    main()
