"""Re-runs of the text analysis at 100,000 entries, two code trees alternated in the same run
(issue 15: "re-running the analysis on 100,000 entries stays under 30 s, in the background").

    python bench/bench_text_rerun.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench_x \
        --tree main=/tmp/main_src,URL_B --tree branch=. [--rounds 3] [--scenarios full,unchanged,...]
    python bench/bench_text_rerun.py --url ... --tree branch=. --agreement 1e-3,5e-4,1e-4

The database is one bench_analysis.py filled and analysed (``--keep``), or one per tree (a copy:
CREATE DATABASE b TEMPLATE a); run ``--prepare`` once so the state every scenario starts from is one
full run of that tree (results, themes, models, stored tokens and feature rows committed). Each
measurement is a child process that imports the given tree, runs one scenario in a transaction and
rolls it back, so every measurement starts from the same state; the parent alternates the trees (the
order flips every round) and prints each measurement and the medians of wall time and of the child's
process CPU time, with the load average before and after. Scenarios:

- ``full``: a forced full recompute with retraining (stored models deleted, as when labels change);
- ``unchanged``: a re-run that finds nothing changed;
- ``weekly``: the weekly re-run after 1 % new texts arrived (placed incrementally);
- ``weekly_full``: the same arrivals, then a forced full recompute with retraining (the new texts'
  features are computed and the stored ones rewritten).

``--agreement TOLS``: for each solver tolerance, in one child: a full run with retraining, the
1 % arrivals placed incrementally, then a forced full recompute with retraining; prints the CPU
of the full runs and the share of the new texts (and of all) whose sentiment, category and theme
both agree on, and the stored models' cross-validated and held-back balanced accuracies.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
NEW_SOURCE_OFFSET = 50_000_000


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--tree", action="append", default=[], help="name=path of a source tree")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--scenarios", default="full,unchanged,weekly,weekly_full")
    p.add_argument("--prepare", action="store_true", help="commit one full run of the first tree")
    p.add_argument("--agreement", default="", help="comma-separated solver tolerances")
    p.add_argument("--child", default="", help=argparse.SUPPRESS)
    p.add_argument("--src", default="", help=argparse.SUPPRESS)
    p.add_argument(
        "--tolerance", type=float, default=0.0, help="the solver's tolerance (default: the tree's)"
    )
    return p.parse_args()


# --- child -----------------------------------------------------------------------------------


def _arrive(session: object, n: int) -> None:
    """``n`` new texts in the newest week (copies of texts of the window), with their ratings."""
    from sqlalchemy import func, select, text

    from perception.core.models.facts import TextEntry

    newest = session.scalar(select(func.max(TextEntry.period_start)))  # type: ignore[attr-defined]
    session.execute(  # type: ignore[attr-defined]
        text(
            "INSERT INTO text_entry (source, source_id, kind, observed_on, period_start, region_id, "
            "customer_id, service_id, dimension, text) "
            "SELECT source, source_id + :o, kind, :w, :w, region_id, customer_id, "
            "service_id, dimension, text FROM text_entry WHERE source = 'feedback' AND source_id < :o "
            "ORDER BY period_start, id LIMIT :n"
        ),
        {"o": NEW_SOURCE_OFFSET, "w": newest, "n": n},
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


def _timed(fn: object) -> dict[str, float]:
    load = os.getloadavg()[0]
    t, cpu = time.perf_counter(), time.process_time()
    fn()  # type: ignore[operator]
    return {
        "wall": time.perf_counter() - t,
        "cpu": time.process_time() - cpu,
        "load_before": load,
        "load_after": os.getloadavg()[0],
    }


def child(args: argparse.Namespace) -> None:
    sys.path.insert(0, args.src)
    os.environ.setdefault("PERCEPTION_INSTANCE_PATH", "/tmp/bench_analysis_instance")
    import scipy.optimize  # noqa: F401 - as a worker that has run once: libraries loaded
    import sklearn.linear_model  # noqa: F401
    from sqlalchemy import select, text

    import perception
    from perception import create_app
    from perception.analysis.services.text_run import run_text_analysis
    from perception.core.extensions import db
    from perception.core.models.facts import TextEntry

    assert perception.__file__.startswith(str(Path(args.src).resolve())), perception.__file__
    import scoring.text.classifier_features as features

    if args.tolerance:
        features.TOLERANCE = args.tolerance
    # The solver's share: CPU seconds and iterations of every logistic-regression fit.
    solver = {"fits": 0, "cpu": 0.0, "iterations": 0}
    fit = features.CompactLogisticRegression.fit

    def timed_fit(self: object, x: object, y: object) -> object:
        cpu = time.process_time()
        out = fit(self, x, y)
        solver["fits"] += 1
        solver["cpu"] += time.process_time() - cpu
        solver["iterations"] += int(max(self.model_.n_iter_))  # type: ignore[attr-defined]
        return out

    features.CompactLogisticRegression.fit = timed_fit  # type: ignore[method-assign]
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.url, "SECRET_KEY": "bench" * 10, "REDIS_URL": None})
    out: dict[str, object] = {}
    with app.app_context():
        session = db.session
        n_run = session.scalar(text("SELECT max_entries FROM text_analysis_settings LIMIT 1")) or 100_000
        retrain = lambda: session.execute(text("DELETE FROM text_classifier_model"))  # noqa: E731
        if args.child == "prepare":
            db.create_all()  # tables the branch added since the data was built
            retrain()
            out = _timed(lambda: run_text_analysis(session, full=True))
            session.commit()
        elif args.child == "full":
            retrain()
            out = _timed(lambda: (run_text_analysis(session, full=True), session.flush()))
        elif args.child == "unchanged":
            out = _timed(lambda: (run_text_analysis(session), session.flush()))
        elif args.child == "weekly":
            _arrive(session, n_run // 100)
            out = _timed(lambda: (run_text_analysis(session), session.flush()))
        elif args.child == "weekly_full":
            _arrive(session, n_run // 100)
            retrain()
            out = _timed(lambda: (run_text_analysis(session, full=True), session.flush()))
        elif args.child == "agreement":
            columns = (TextEntry.id, TextEntry.theme_key, TextEntry.category, TextEntry.sentiment)
            newest = (
                select(*columns).order_by(TextEntry.period_start.desc(), TextEntry.id.desc()).limit(n_run)
            )
            retrain()
            first = _timed(lambda: (run_text_analysis(session, full=True), session.flush()))
            out["figures_full"] = _models(session)
            _arrive(session, n_run // 100)
            session.flush()
            inc = _timed(lambda: (run_text_analysis(session), session.flush()))
            session.expire_all()
            placed = {r[0]: tuple(r[1:]) for r in session.execute(newest)}
            arrived = set(
                session.scalars(select(TextEntry.id).where(TextEntry.source_id >= NEW_SOURCE_OFFSET))
            )
            retrain()
            again = _timed(lambda: (run_text_analysis(session, full=True), session.flush()))
            session.expire_all()
            full = {r[0]: tuple(r[1:]) for r in session.execute(newest)}
            for name, ids in (("new", arrived & set(full)), ("all", set(full))):
                out[name] = {
                    what: sum(placed.get(i, (None,) * 3)[k] == full[i][k] for i in ids) / max(len(ids), 1)
                    for k, what in enumerate(("theme", "category", "sentiment"))
                }
                out[f"n_{name}"] = len(ids)
            out.update(first_full=first, incremental=inc, weekly_full=again, figures=_models(session))
        session.rollback()
    out["solver"] = solver
    print("RESULT " + json.dumps(out))


def _models(session: object) -> dict[str, object]:
    from sqlalchemy import select

    from perception.analysis.models import TextClassifierModel

    return {
        m.target: {"cv": m.cv_accuracy, "held_back": (m.evaluation or {}).get("held_back")}
        for m in session.scalars(select(TextClassifierModel))  # type: ignore[attr-defined]
    }


# --- parent ----------------------------------------------------------------------------------


def _spawn(
    args: argparse.Namespace, src: str, scenario: str, tolerance: float = 0.0, url: str = ""
) -> dict[str, object]:
    command = [sys.executable, str(HERE), "--url", url or args.url, "--child", scenario, "--src", src]
    if tolerance:
        command += ["--tolerance", repr(tolerance)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd="/tmp")
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{scenario} in {src} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT ") :])  # type: ignore[no-any-return]


def main() -> None:
    args = _args()
    if args.child:
        child(args)
        return
    # name=path, or name=path,url: that tree's runs read their own database (each tree's
    # "unchanged" and "weekly" runs need a state its own full run left).
    specs = dict(t.split("=", 1) for t in args.tree)
    urls = {name: (spec.split(",", 1) + [args.url])[1] for name, spec in specs.items()}
    trees = {name: str(Path(spec.split(",", 1)[0]).resolve()) for name, spec in specs.items()}
    if args.prepare:
        for name, src in trees.items():
            r = _spawn(args, src, "prepare", url=urls[name])
            print(f"prepared with {name}: {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU")
    if args.agreement:
        name, src = next(iter(trees.items()))
        for tol in (float(t) for t in args.agreement.split(",")):
            r = _spawn(args, src, "agreement", tol)
            f, i, w = r["first_full"], r["incremental"], r["weekly_full"]  # type: ignore[index]
            print(f"  solver over the three runs: {r['solver']}")
            print(
                f"tol {tol:g} [{name}]: full {f['cpu']:.1f} s CPU ({f['wall']:.1f} wall), "  # type: ignore[index]
                f"incremental {i['cpu']:.1f} s CPU, weekly full {w['cpu']:.1f} s CPU "  # type: ignore[index]
                f"({w['wall']:.1f} wall), load {f['load_before']:.1f}-{w['load_after']:.1f}"  # type: ignore[index]
            )
            for part in ("new", "all"):
                a = r[part]
                print(
                    f"  incremental = full, {part} {r[f'n_{part}']:,}: theme {a['theme']:.1%}, "  # type: ignore[index]
                    f"category {a['category']:.1%}, sentiment {a['sentiment']:.1%}"  # type: ignore[index]
                )
            print(
                f"  model card after the first full run: {r['figures_full']}; "
                f"after the weekly: {r['figures']}"
            )
        return
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    names = list(trees)
    for round_ in range(args.rounds):
        order = names if round_ % 2 == 0 else names[::-1]
        for scenario in args.scenarios.split(","):
            for name in order:
                r = _spawn(args, trees[name], scenario, args.tolerance, urls[name])
                results.setdefault((scenario, name), []).append(r)  # type: ignore[arg-type]
                print(
                    f"round {round_ + 1} {scenario:12s} {name:8s} {r['wall']:6.1f} s wall "
                    f"{r['cpu']:6.1f} s CPU (solver {r['solver']['cpu']:.1f} s CPU, "  # type: ignore[index]
                    f"{r['solver']['fits']} fits, {r['solver']['iterations']} iterations)"  # type: ignore[index]
                    f"  load {r['load_before']:.1f} -> {r['load_after']:.1f}",
                    flush=True,
                )
    print("medians:")
    for scenario in args.scenarios.split(","):
        for name in names:
            rs = results[(scenario, name)]
            print(
                f"  {scenario:12s} {name:8s} wall {statistics.median(r['wall'] for r in rs):6.1f} s, "
                f"CPU {statistics.median(r['cpu'] for r in rs):6.1f} s, load "
                f"{min(r['load_before'] for r in rs):.1f}-{max(r['load_after'] for r in rs):.1f} "
                f"(n={len(rs)})"
            )


if __name__ == "__main__":
    main()
