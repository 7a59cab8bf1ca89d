"""What the SERVQUAL demo wave (issue 14: 22 pairs + a constant-sum importance question) adds to the
demo's load, and what the weighted gap costs the experience page.

    python bench/bench_servqual_weights.py [--weeks 26] [--repeat 5]

Loads the full demo once into a temporary SQLite file (``load_demo``, every part), timing the
surveys part with and the SERVQUAL wave alone; then times ``servqual_weighting`` and the whole
``experience`` service on the default period, ``--repeat`` times each with a warm cache. Prints
one line per figure (median and range) and the load average, which on a shared machine says how
far the figures can be trusted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-servqual-"))
    os.environ["PERCEPTION_INSTANCE_PATH"] = str(folder / "instance")
    from perception import create_app
    from perception.analysis.services.experience import experience
    from perception.analysis.services.filters import default_filters
    from perception.analysis.services.servqual_weights import servqual_weighting
    from perception.core.demo import load_demo
    from perception.core.extensions import db
    from perception.surveys import demo as surveys_demo

    wave_seconds: list[float] = []
    original = surveys_demo._servqual_wave

    def timed_wave(*a: object, **k: object) -> int:
        started = time.perf_counter()
        try:
            return original(*a, **k)  # type: ignore[arg-type]
        finally:
            wave_seconds.append(time.perf_counter() - started)

    surveys_demo._servqual_wave = timed_wave  # type: ignore[assignment]
    uri = f"sqlite:///{folder / 'demo.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "MAIL_BACKEND": "file", "REDIS_URL": None})
    lines: list[str] = []
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        load_demo(db.session, weeks=args.weeks, progress=lambda line: lines.append(line))
        total = time.perf_counter() - started
        db.session.commit()
        print(f"demo load ({args.weeks} weeks), all parts: {total:.1f} s")
        print(f"  of which the SERVQUAL wave (22 pairs + constant sum): {wave_seconds[0]:.2f} s")
        for line in lines:
            if "surveys" in line.lower():
                print(f"  {line.strip()}")
        from datetime import date

        filters = default_filters(date.today())
        weighting = servqual_weighting(db.session, filters)
        assert weighting is not None
        print(
            f"  weighted gap {weighting.weighted.gap.estimate:.3f} (n={weighting.weighted.n}), "
            f"unweighted same respondents {weighting.unweighted.gap.estimate:.3f}"
        )
        for name, call in (
            ("servqual_weighting", lambda: servqual_weighting(db.session, filters)),
            ("experience (whole page service)", lambda: experience(db.session, filters)),
        ):
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                call()
                times.append(1000 * (time.perf_counter() - started))
            median, low, high = statistics.median(times), min(times), max(times)
            print(f"{name}: median {median:.1f} ms (min {low:.1f}, max {high:.1f})")
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
