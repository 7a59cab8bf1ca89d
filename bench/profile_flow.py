"""Profile the product's respondent flow in one process (Flask test client, no server).

Run: python bench/profile_flow.py [--flows 300] [--survey csat|lime] [--top 30]
Prints the time per step (open link, page, POST, thank-you) and cProfile's top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from flow_data import prepare  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flows", type=int, default=300)
    parser.add_argument("--survey", choices=("csat", "lime"), default="csat")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="profile_flow_"))
    env = {
        "PERCEPTION_DATABASE_URL": os.environ.get("PROFILE_DATABASE_URL", f"sqlite:///{folder / 'p.sqlite'}"),
        "PERCEPTION_INSTANCE_PATH": str(folder / "instance"),
        "PERCEPTION_SECRET_KEY": "p" * 64,
        "PERCEPTION_SURVEY_MIN_FILL_SECONDS": "0",
        "FLOW_HTML_DIR": str(folder / "html"),
    }
    files = prepare(env, {("p", args.survey): args.flows + 20}, folder)
    from perception import create_app

    app = create_app()
    lines = files[("p", args.survey)].read_text().splitlines()
    steps = {"open": 0.0, "page": 0.0, "post": 0.0, "thanks": 0.0}

    def flow(line: str) -> None:
        token, answers = line.split("\t")
        client = app.test_client()
        t = time.perf_counter()
        r = client.get(f"/s/t/{token}")
        assert r.status_code == 303, r.status_code
        steps["open"] += time.perf_counter() - t
        t = time.perf_counter()
        body = client.get(r.headers["Location"]).get_data(as_text=True)
        steps["page"] += time.perf_counter() - t
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)  # type: ignore[union-attr]
        nonce = re.search(r'name="submission_nonce" value="([^"]+)"', body).group(1)  # type: ignore[union-attr]
        t = time.perf_counter()
        r = client.post(
            "/s/r",
            data=f"csrf_token={csrf}&submission_nonce={nonce}&page=0&action=next&{answers}",
            content_type="application/x-www-form-urlencoded",
        )
        assert r.status_code == 303, (r.status_code, r.get_data(as_text=True)[:2000])
        steps["post"] += time.perf_counter() - t
        t = time.perf_counter()
        assert client.get(r.headers["Location"]).status_code == 200
        steps["thanks"] += time.perf_counter() - t

    for line in lines[:20]:
        flow(line)
    steps = dict.fromkeys(steps, 0.0)
    profiler = cProfile.Profile()
    profiler.enable()
    for line in lines[20:]:
        flow(line)
    profiler.disable()
    print(
        f"{args.flows} flows, ms per step under the profiler: "
        + ", ".join(f"{k} {1000 * v / args.flows:.1f}" for k, v in steps.items())
    )
    pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
