"""CPU per step of the product's respondent flow, in one process (Flask test client, no server).

Run: python bench/cpu_flow.py [--flows 400] [--survey csat|lime] [--root DIR]
                              [--app product|same_steps|both]
Prints the median process CPU (time.process_time_ns) of each step (open link, page, POST,
thank-you) and of the whole flow over ``--flows`` flows, with the load average. ``--root`` runs
another checkout's code (e.g. ``git archive main | tar -x -C /tmp/base``) with the same driver,
so two versions can be compared on the same loaded machine, alternating runs.

``--app same_steps`` drives bench/flow_apps.py's bare same-steps app (the product's page bytes,
no templates, forms or hooks) through the same four steps; ``--app both`` drives the product and
the same-steps app in the same process, alternating flow by flow, so a change in the machine's
load hits both alike, and prints their ratio (issue 19's yardstick: product CPU per flow at most
1.05 x the same-steps app's). The driver's own work (the test client) is inside every figure
and is the same for both apps.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
STEPS = ("open", "page", "post", "thanks", "flow")


def _flow(app: Any, prefix: str) -> Callable[[str], list[int]]:
    cpu = time.process_time_ns

    def flow(line: str) -> list[int]:
        token, answers = line.split("\t")
        client = app.test_client()
        t0 = cpu()
        r = client.get(f"{prefix}/t/{token}")
        t1 = cpu()
        assert r.status_code == 303, r.status_code
        body = client.get(r.headers["Location"]).get_data(as_text=True)
        t2 = cpu()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)  # type: ignore[union-attr]
        nonce = re.search(r'name="submission_nonce" value="([^"]+)"', body).group(1)  # type: ignore[union-attr]
        t3 = cpu()
        r = client.post(
            f"{prefix}/r",
            data=f"csrf_token={csrf}&submission_nonce={nonce}&page=0&action=next&{answers}",
            content_type="application/x-www-form-urlencoded",
        )
        t4 = cpu()
        assert r.status_code == 303, (r.status_code, r.get_data(as_text=True)[:2000])
        assert client.get(r.headers["Location"]).status_code == 200
        t5 = cpu()
        return [t1 - t0, t2 - t1, t4 - t3, t5 - t4, t5 - t0 - (t3 - t2)]

    return flow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flows", type=int, default=400)
    parser.add_argument("--survey", choices=("csat", "lime"), default="lime")
    parser.add_argument("--root", default=str(HERE.parent), help="the checkout whose code runs")
    parser.add_argument("--app", choices=("product", "same_steps", "both"), default="product")
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
    names = ("product", "same_steps") if args.app == "both" else (args.app,)
    files = prepare(env, {(name, args.survey): args.flows + 30 for name in names}, folder)
    import perception
    from perception import create_app

    flows: dict[str, Callable[[str], list[int]]] = {}
    if "product" in names:
        flows["product"] = _flow(create_app(), "/s")
    if "same_steps" in names:
        os.environ["FLOW_APP"] = "same_steps"
        import flow_apps

        flows["same_steps"] = _flow(flow_apps.same_steps, "/b")
    lines = {name: files[(name, args.survey)].read_text().splitlines() for name in names}
    for i in range(30):  # warm-up, not counted
        for name in names:
            flows[name](lines[name][i])
    steps: dict[str, dict[str, list[int]]] = {name: {k: [] for k in STEPS} for name in names}
    for i in range(30, args.flows + 30):
        for name in names:  # alternated flow by flow
            for k, value in zip(STEPS, flows[name](lines[name][i]), strict=True):
                steps[name][k].append(value)
    load = os.getloadavg()
    checkout = Path(perception.__file__).parents[1].name
    for name in names:
        print(
            f"{checkout} {name} {args.survey} {args.flows} flows, median CPU ms: "
            + ", ".join(f"{k} {statistics.median(v) / 1e6:.2f}" for k, v in steps[name].items())
            + f"  (load {load[0]:.1f})"
        )
    if len(names) == 2:
        ratios = ", ".join(
            f"{k} {statistics.median(steps['product'][k]) / statistics.median(steps['same_steps'][k]):.2f}"
            for k in STEPS
        )
        print(f"{checkout} {args.survey} product / same-steps CPU: {ratios}")


if __name__ == "__main__":
    main()
