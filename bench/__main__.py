"""All benchmarks: `python -m bench [--quick]` (what `make bench` / `make bench-quick` run).

Writes OUT/latest.json (machine + every headline figure with unit, goal, met),
OUT/latest.md (the table) and the PNG plots; the detailed result of each
benchmark goes to OUT/details/<name>.json. Cluster parts hold the machine-wide
e2e lock one at a time, so other cluster work can run between them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import (
    burst,
    cluster,
    collect,
    collector_throughput,
    control_plane,
    figures,
    node_burst,
    plots,
    pod_startup,
    runner_overhead,
)


@dataclass(frozen=True)
class Counts:
    runner_runs: int
    pod_runs: int
    burst: int
    node_burst: int
    node_burst_rounds: int
    control_plane: int
    rounds: int
    scale_executions: int
    scale_pods: int

    def described(self) -> dict[str, int]:
        return {
            "runner/bare/seed runs": self.runner_runs,
            "sequential pod and Execution runs": self.pod_runs,
            "burst Executions": self.burst,
            "node burst Executions and bare pods": self.node_burst,
            "node burst rounds": self.node_burst_rounds,
            "control-plane Executions per round": self.control_plane,
            "control-plane rounds": self.rounds,
            "Executions present for RSS": self.scale_executions,
            "unrelated pods present for RSS": self.scale_pods,
            "collector burst lines": collector_throughput.BURST_LINES,
            "collector backend-down lines": collector_throughput.DOWN_LINES,
        }


FULL = Counts(200, 10, 200, 50, 3, 1000, 3, 5000, 2000)
QUICK = Counts(50, 3, 100, 20, 1, 200, 3, 1000, 400)
# Overrides while iterating on one figure, e.g. BENCH_COUNTS=scale_executions=1000,rounds=2
COUNTS_ENV = "BENCH_COUNTS"


def chosen_counts(base: Counts, override: str) -> Counts:
    """`base` with the `name=value` pairs of `override` (comma-separated) applied."""
    pairs = dict(item.split("=", 1) for item in override.split(",") if item.strip())
    unknown = set(pairs) - set(Counts.__dataclass_fields__)
    if unknown:
        raise SystemExit(f"{COUNTS_ENV}: unknown counts {sorted(unknown)}")
    return dataclasses.replace(base, **{name.strip(): int(value) for name, value in pairs.items()})


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _commit() -> str:
    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "unknown"


def parts(counts: Counts, details: Path) -> dict[str, Callable[[], dict[str, Any]]]:
    logs = details / "logs"
    image: dict[str, str] = {}

    def img() -> str:
        if "image" not in image:
            image["image"] = cluster.runner_image()
        return image["image"]

    return {
        "runnerOverhead": lambda: runner_overhead.run(details, counts.runner_runs),
        "collectorThroughput": lambda: collector_throughput.run(details),
        "podStartup": lambda: pod_startup.run(details, counts.pod_runs, img()),
        "burst": lambda: burst.measure(img(), counts.burst, logs),
        "nodeBurst": lambda: node_burst.measure(
            img(), counts.node_burst, logs, counts.node_burst_rounds
        ),
        "controlPlane": lambda: control_plane.rounds(
            img(), counts.control_plane, counts.rounds, logs
        ),
        "operatorScale": lambda: control_plane.at_scale(
            img(), counts.scale_executions, counts.scale_pods, logs
        ),
    }


def _timed(name: str, run: Callable[[], dict[str, Any]], details: Path) -> dict[str, Any]:
    print(f"bench: {name} ...", flush=True)
    started = time.monotonic()
    try:
        result = run()
    except Exception as exc:  # one broken benchmark must not hide the others' figures
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    result["benchSeconds"] = round(time.monotonic() - started, 1)
    (details / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"bench: {name} done in {result['benchSeconds']} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--quick", action="store_true", help="reduced counts (a few minutes)")
    parser.add_argument("--only", nargs="*", help="run only these parts (names as in details/)")
    parser.add_argument(
        "--render", action="store_true", help="no measuring: redo latest.* from details/"
    )
    args = parser.parse_args()
    override = os.environ.get(COUNTS_ENV, "")
    counts = chosen_counts(QUICK if args.quick else FULL, override)
    out: Path = args.out
    details = out / "details"
    details.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    chosen = [name for name in parts(counts, details) if not args.only or name in args.only]
    if args.render:
        results = {name: json.loads((details / f"{name}.json").read_text()) for name in chosen}
    else:
        runs = parts(counts, details)
        results = {name: _timed(name, runs[name], details) for name in chosen}
    values, notes = collect.headline(results)
    run = {
        "mode": ("quick" if args.quick else "full") + (" (counts overridden)" if override else ""),
        "commit": _commit(),
        "seconds": round(time.monotonic() - started),
        "counts": counts.described(),
    }
    where = machine()
    if args.render:  # the figures' own run and machine, not this re-rendering's
        earlier = json.loads((out / "latest.json").read_text())
        where, run = earlier["machine"], earlier["run"]
    doc = figures.document(where, values, notes, run)
    doc["cpu"] = collect.cpu_budgets(results)
    (out / "latest.json").write_text(json.dumps(doc, indent=2) + "\n")
    before_file = out / "before.json"
    before = json.loads(before_file.read_text()) if before_file.exists() else None
    text = figures.markdown(doc, counts.described(), plots.draw_all(results, out), before)
    (out / "latest.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
