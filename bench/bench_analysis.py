"""Benchmark of the analysis pages on PostgreSQL at the issue's scale, and of the text analysis.

    python bench/bench_analysis.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/bench_analysis]
                                   [--responses 1000000] [--texts 200000] [--text-run 100000] [--keep]
                                   [--skip-pages] [--profile]

Builds (unless --keep finds it already filled) a database of 52 ISO weeks x 12 regions x 6
services x 36 customers with ``--responses`` survey responses (each a CSAT answer; a quarter also
answer NPS and a quarter rate the six dimensions, about 2.75 observations per response), weekly
KPI values linked to experience standards, and ``--texts`` requirements and rated feedback entries
of weekly reports generated with their gold grouping (bench/text_corpus.py: many needs and
topics, in Chinese and English, varied as real reports vary), written with COPY. Then times, with
a warm cache, the overview and the KPI-versus-experience services (which is what the pages call;
rendering adds a few ms, charts are separate image requests) for the default period (14 weeks)
and the whole year, for all regions and for one region (``--skip-pages``: not), and finally
``run_text_analysis`` over the newest ``--text-run`` entries from nothing analysed, then again with
nothing new, then the weekly re-run after 1% new texts arrived (incremental) and a forced full
recompute with the share of results on which both agree (wall time, CPU time of this process and
of the database backend, load average; ``--profile``: cProfile of the first run), and scores its
themes against the gold grouping: number of themes, adjusted Rand index, common-need precision
and recall of the newest week. Prints one line per figure.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from text_corpus import generate  # noqa: E402

WEEKS = 52
TEXT_SOURCE_ID = 2_000_000  # feedback entry ids of the generated texts: TEXT_SOURCE_ID + GeneratedText.id
PASSWORD = "bench-password-123"  # noqa: S105 - a throw-away benchmark user


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
    p.add_argument("--skip-pages", action="store_true", help="time the text analysis only")
    p.add_argument("--profile", action="store_true", help="profile the first text-analysis run (cProfile)")
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
    # Texts shaped like a real provider's, with their gold grouping (bench/text_corpus.py): weekly
    # reports' requirements and feedback entries, each feedback entry with its 1-5 rating on its
    # dimension as the collection phase writes it (source "feedback", kind "rating").
    corpus = generate(n_texts)
    text_cols = [
        "source",
        "source_id",
        "kind",
        "observed_on",
        "period_start",
        "region_id",
        "customer_id",
        "service_id",
        "dimension",
        "text",
    ]

    def texts() -> object:
        for t in corpus:
            c = customers[t.customer]
            w = weeks[WEEKS - 1 + t.week]
            body = t.text.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")
            yield ("feedback", TEXT_SOURCE_ID + t.id, t.kind, w, w, c.region_id, c.id, services[t.id % 6].id,
                   t.dimension, body)  # fmt: skip

    def ratings() -> object:
        for t in corpus:
            if t.rating is not None:
                c = customers[t.customer]
                w = weeks[WEEKS - 1 + t.week]
                yield ("feedback", TEXT_SOURCE_ID + t.id, w, w, c.region_id, c.id, services[t.id % 6].id,
                       "rating", t.dimension, t.dimension, t.rating, 1, 5)  # fmt: skip

    _copy(conn, "experience_observation", cols, ratings())
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


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc (0 when unreadable)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _timed_run(session: object, label: str, profile: bool = False) -> object:
    """One run_text_analysis, committed, with its wall time, this process's CPU time, the database
    backend's CPU time and the load average around it."""
    from sqlalchemy import text

    from perception.analysis.services.text_run import run_text_analysis

    backend = session.scalar(text("SELECT pg_backend_pid()"))  # type: ignore[attr-defined]
    load_before = os.getloadavg()
    db_cpu = _cpu_of(backend)
    t, cpu = time.perf_counter(), time.process_time()
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        result = profiler.runcall(run_text_analysis, session)
        session.commit()  # type: ignore[attr-defined]
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    else:
        result = run_text_analysis(session)
        session.commit()  # type: ignore[attr-defined]
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    # The machine may be shared: the CPU seconds of this process and of the database backend and
    # the load average say how much of the wall time was this run's own work.
    print(
        f"run_text_analysis {label:22s} {result.n_entries:,} texts, {result.n_themes} themes, "
        f"{result.n_changed:,} rows written: {wall:.1f} s wall, {cpu:.1f} s CPU, "
        f"database {_cpu_of(backend) - db_cpu:.1f} s CPU, load average {load_before[0]:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after"
    )
    return result


NEW_SOURCE_OFFSET = 50_000_000  # source ids of the texts that arrive for the weekly re-run


def _remove_arrivals(session: object) -> None:
    from sqlalchemy import text

    for statement in (
        "DELETE FROM text_entry WHERE source = 'feedback' AND source_id >= :o",
        "DELETE FROM experience_observation WHERE source = 'feedback' AND source_id >= :o",
    ):
        session.execute(text(statement), {"o": NEW_SOURCE_OFFSET})  # type: ignore[attr-defined]
    session.commit()  # type: ignore[attr-defined]


def weekly_rerun(session: object, n_run: int) -> None:
    """The weekly re-run: 1% of ``n_run`` new texts arrive (copies, in the newest week, of texts
    the window does not hold, with their ratings), the run places them (incrementally when only
    they changed), then a forced full recompute shows what the incremental run gave differently."""
    from sqlalchemy import func, select, text

    from perception.analysis.services.text_run import run_text_analysis
    from perception.core.models.facts import TextEntry

    n_new = max(1, n_run // 100)
    newest = session.scalar(select(func.max(TextEntry.period_start)))  # type: ignore[attr-defined]
    session.execute(  # type: ignore[attr-defined]
        text(
            "INSERT INTO text_entry (source, source_id, kind, observed_on, period_start, region_id, "
            "customer_id, service_id, dimension, text) "
            "SELECT source, source_id + :o, kind, :w, :w, region_id, customer_id, "
            "service_id, dimension, text FROM text_entry WHERE source = 'feedback' AND source_id < :o "
            "ORDER BY period_start, id LIMIT :n"
        ),
        {"o": NEW_SOURCE_OFFSET, "w": newest, "n": n_new},
    )
    session.execute(  # type: ignore[attr-defined]
        text(
            "INSERT INTO experience_observation (source, source_id, observed_on, period_start, region_id, "
            "customer_id, service_id, kind, dimension, item, value, scale_min, scale_max) "
            "SELECT o.source, o.source_id + :o, :w, :w, o.region_id, o.customer_id, o.service_id, o.kind, "
            "o.dimension, o.item, o.value, o.scale_min, o.scale_max FROM experience_observation o "
            "JOIN text_entry t ON t.source = 'feedback' AND t.source_id = o.source_id + :o "
            "WHERE o.source = 'feedback'"
        ),
        {"o": NEW_SOURCE_OFFSET, "w": newest},
    )
    session.commit()  # type: ignore[attr-defined]
    columns = (
        TextEntry.id,
        TextEntry.theme_key,
        TextEntry.category,
        TextEntry.sentiment,
        TextEntry.label_source,
    )
    try:
        result = _timed_run(session, f"(weekly, {n_new:,} new)")
        print(f"  weekly re-run: {session.get(_run_model(), result.run_id).detail}")  # type: ignore[attr-defined]
        newest_rows = (
            select(*columns).order_by(TextEntry.period_start.desc(), TextEntry.id.desc()).limit(n_run)
        )
        placed = {row[0]: tuple(row[1:]) for row in session.execute(newest_rows)}  # type: ignore[attr-defined]
        arrived = set(
            session.scalars(  # type: ignore[attr-defined]
                select(TextEntry.id).where(TextEntry.source_id >= NEW_SOURCE_OFFSET)
            )
        )
        t, cpu = time.perf_counter(), time.process_time()
        run_text_analysis(session, full=True)  # type: ignore[arg-type]
        session.commit()  # type: ignore[attr-defined]
        print(
            f"run_text_analysis (weekly, forced full)   {time.perf_counter() - t:.1f} s wall, "
            f"{time.process_time() - cpu:.1f} s CPU, load average {os.getloadavg()[0]:.1f}"
        )
        full = {row[0]: tuple(row[1:]) for row in session.execute(newest_rows)}  # type: ignore[attr-defined]
        for name, ids in (("new", arrived & set(full)), ("all", set(full))):
            same = [
                sum(placed.get(i, (None,) * 4)[k] == full[i][k] for i in ids) / max(len(ids), 1)
                for k in range(3)
            ]
            print(
                f"  incremental = full recompute, {name} {len(ids):,} texts: theme {same[0]:.1%}, "
                f"category {same[1]:.1%}, sentiment {same[2]:.1%}"
            )
    finally:
        _remove_arrivals(session)


def _run_model() -> object:
    from perception.analysis.models import TextAnalysisRun

    return TextAnalysisRun


def text_runs(session: object, n_run: int, n_texts: int, end: date, profile: bool) -> None:
    """Run the text analysis over the newest ``n_run`` generated texts, then again with nothing
    changed, and score the themes against the gold grouping (bench/text_corpus.py): number of
    themes, adjusted Rand index (all texts, requirements, comments) and the common needs of the
    newest week (the product's rule, settings' M customers in R regions) against the gold ones."""
    from sqlalchemy import select, text

    from perception.analysis.services.demand import common_and_emerging_needs
    from perception.analysis.services.text_settings import get_settings
    from perception.core.models.facts import TextEntry
    from tests.analysis.labelled_set import adjusted_rand, common_need_score, gold_common_needs

    _remove_arrivals(session)
    # Start from nothing analysed (a database kept from an earlier bench holds its results).
    for statement in (
        "UPDATE text_entry SET theme_key = NULL, category = NULL, sentiment = NULL, confidence = NULL, "
        "label_source = NULL",
        "DELETE FROM text_theme",
        "DELETE FROM text_classifier_model",
        "DELETE FROM text_analysis_run",
        "DELETE FROM text_analysis_settings",
        "DELETE FROM text_token_cache",  # a first run segments every text
        "DELETE FROM text_feature_cache",  # and computes every text's features
    ):
        session.execute(text(statement))  # type: ignore[attr-defined]
    session.commit()  # type: ignore[attr-defined]
    settings = get_settings(session)
    settings.max_entries = n_run
    session.add(settings)  # type: ignore[attr-defined]
    session.commit()  # type: ignore[attr-defined]
    result = _timed_run(session, "(first run)", profile)
    _timed_run(session, "(again, no new text)")
    weekly_rerun(session, n_run)
    corpus = {TEXT_SOURCE_ID + t.id: t for t in generate(n_texts)}
    rows = session.execute(  # type: ignore[attr-defined]
        select(TextEntry.source_id, TextEntry.theme_key, TextEntry.period_start)
        .where(TextEntry.source == "feedback")
        .order_by(TextEntry.period_start.desc(), TextEntry.id.desc())
        .limit(n_run)
    ).all()
    texts = [corpus[sid] for sid, _, _ in rows]
    found = [key for _, key, _ in rows]
    n_gold = len({t.gold for t in texts if not t.gold.startswith("noise")})
    print(f"themes: {result.n_themes} (gold groups: {n_gold}, and noise texts each its own)")
    print(
        f"adjusted Rand index, all {len(texts):,} texts: {adjusted_rand([t.gold for t in texts], found):.3f}"
    )
    for kind in ("requirement", "feedback"):
        pick = [i for i, t in enumerate(texts) if t.kind == kind]
        ari = adjusted_rand([texts[i].gold for i in pick], [found[i] for i in pick])
        print(f"adjusted Rand index, {kind} ({len(pick):,}): {ari:.3f}")
    week = end - timedelta(weeks=1)
    needs = common_and_emerging_needs(session, week, end)
    by_key: dict[str, list[int]] = {}
    for sid, key, start in rows:
        if key is not None and start == week and corpus[sid].kind == "requirement":
            by_key.setdefault(key, []).append(corpus[sid].id)
    found_needs = {n.theme_key: by_key.get(n.theme_key, []) for n in needs.common}
    gold = gold_common_needs(texts, 0)
    score = common_need_score(found_needs, list(corpus.values()), gold)
    print(
        f"common needs of the newest week: found {len(found_needs)}, gold {len(gold)}, "
        f"precision {score.precision:.3f}, recall {score.recall:.3f}, missed {list(score.missed)}"
    )


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
        if args.skip_pages:
            if args.text_run:
                text_runs(db.session, args.text_run, args.texts, end, args.profile)
            return
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
            text_runs(db.session, args.text_run, args.texts, end, args.profile)


if __name__ == "__main__":
    main()
