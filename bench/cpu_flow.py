"""CPU per step of the product's respondent flow, in one process (Flask test client, no server).

Run: python bench/cpu_flow.py [--flows 400] [--survey csat|lime] [--root DIR]
Prints the median process CPU (time.process_time_ns) of each step (open link, page, POST,
thank-you) and of the whole flow over ``--flows`` flows, with the load average. ``--root`` runs
another checkout's code (e.g. ``git archive main | tar -x -C /tmp/base``) with the same driver,
so two versions can be compared on the same loaded machine, alternating runs.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flows", type=int, default=400)
    parser.add_argument("--survey", choices=("csat", "lime"), default="lime")
    parser.add_argument("--root", default=str(HERE.parent), help="the checkout whose code runs")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(Path(args.root).resolve()))
    from flow_data import prepare

    folder = Path(tempfile.mkdtemp(prefix="cpu_flow_"))
    env = {
        "PERCEPTION_DATABASE_URL": os.environ.get("PROFILE_DATABASE_URL", f"sqlite:///{folder / 'p.sqlite'}"),
        "PERCEPTION_INSTANCE_PATH": str(folder / "instance"),
        "PERCEPTION_SECRET_KEY": "p" * 64,
        "PERCEPTION_SURVEY_MIN_FILL_SECONDS": "0",
        "FLOW_HTML_DIR": str(folder / "html"),
    }
    files = prepare(env, {("p", args.survey): args.flows + 30}, folder)
    import perception
    from perception import create_app

    app = create_app()
    lines = files[("p", args.survey)].read_text().splitlines()
    steps: dict[str, list[int]] = {"open": [], "page": [], "post": [], "thanks": [], "flow": []}
    cpu = time.process_time_ns

    def flow(line: str) -> None:
        token, answers = line.split("\t")
        client = app.test_client()
        t0 = cpu()
        r = client.get(f"/s/t/{token}")
        t1 = cpu()
        assert r.status_code == 303, r.status_code
        body = client.get(r.headers["Location"]).get_data(as_text=True)
        t2 = cpu()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)  # type: ignore[union-attr]
        nonce = re.search(r'name="submission_nonce" value="([^"]+)"', body).group(1)  # type: ignore[union-attr]
        t3 = cpu()
        r = client.post(
            "/s/r",
            data=f"csrf_token={csrf}&submission_nonce={nonce}&page=0&action=next&{answers}",
            content_type="application/x-www-form-urlencoded",
        )
        t4 = cpu()
        assert r.status_code == 303, (r.status_code, r.get_data(as_text=True)[:2000])
        assert client.get(r.headers["Location"]).status_code == 200
        t5 = cpu()
        for name, value in zip(steps, (t1 - t0, t2 - t1, t4 - t3, t5 - t4, t5 - t0 - (t3 - t2)), strict=True):
            steps[name].append(value)

    for line in lines[:30]:
        flow(line)
    steps = {k: [] for k in steps}
    for line in lines[30:]:
        flow(line)
    load = os.getloadavg()
    print(
        f"{Path(perception.__file__).parents[1].name} {args.survey} {args.flows} flows, median CPU ms: "
        + ", ".join(f"{k} {statistics.median(v) / 1e6:.2f}" for k, v in steps.items())
        + f"  (load {load[0]:.1f})"
    )


if __name__ == "__main__":
    main()
