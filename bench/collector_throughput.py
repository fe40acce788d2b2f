"""Log collector benchmark: lines/s to a live backend, peak RSS with the backend down,
and a burst printed by user code through the real runner to a healthy backend.

The collector runs in a child process (so its RSS and CPU are its own); the
backend runs on loopback in this process. `run(out_dir)` writes
`collector_throughput.json` and returns the figures.

    python -m bench.collector_throughput --out bench-results
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import execution_runner

from bench.collector_child import ATTRIBUTES, LINE
from tests.integration.runner.harness import Payload, Workdir, run_payload
from tests.support.log_backend import LogBackend, closed_port

BURST_LINES = 200_000
DOWN_LINES = 1_000_000


def _in_child(
    endpoint: str, lines: int, logs: dict[str, Any], wait_when_full: bool = False
) -> dict[str, Any]:
    # A process of its own, lean (bench.collector_child): its RSS and CPU are the collector's.
    args = [sys.executable, "-m", "bench.collector_child", endpoint, str(lines), json.dumps(logs)]
    args += ["--wait-when-full"] if wait_when_full else []
    pythonpath = str(Path(execution_runner.__file__).parent.parent)
    root = str(Path(__file__).resolve().parents[1])
    done = subprocess.run(
        args,
        capture_output=True,
        check=True,
        text=True,
        cwd=root,
        env={"PYTHONPATH": f"{pythonpath}:{root}", "PATH": "/usr/bin:/bin"},
        timeout=600,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _through_runner(lines: int) -> dict[str, Any]:
    """User code prints `lines` lines as fast as it can; the real runner ships them."""
    code = f"for i in range({lines}):\n    print({LINE!r}.format(i=i))\nresult = 1\n"
    workdir = Workdir()
    try:
        with LogBackend() as backend:
            logs = {"endpoint": backend.url, "attributes": ATTRIBUTES}
            started = time.perf_counter()
            run = run_payload(
                workdir,
                Payload(code, config={"logs": logs, "timeoutSeconds": 120}),
            )
            seconds = time.perf_counter() - started
            delivered = len(backend.records())
    finally:
        workdir.remove()
    return {
        "lines": lines,
        "delivered": delivered,
        "deliveredFraction": round(delivered / lines, 6),
        "reason": run.reason,
        "counters": run.termination.get("logs"),
        "seconds": round(seconds, 2),
    }


def run(out_dir: Path) -> dict[str, Any]:
    with LogBackend() as backend:
        # Driven as the runner drives it: added while ready() (backpressure), so the
        # figure is lines delivered per second, none dropped.
        burst = _in_child(backend.url, BURST_LINES, {}, wait_when_full=True)
        delivered = len(backend.records())
    # Throughput of the shipping side alone: everything queued first (a queue big enough).
    with LogBackend() as backend:
        backlog = _in_child(
            backend.url, BURST_LINES, {"maxQueueBytes": 1 << 30, "flushIntervalMillis": 600_000}
        )
    # Added regardless of ready(): the worst case for memory (the queue's bound must hold).
    down = _in_child(f"http://127.0.0.1:{closed_port()}/logs", DOWN_LINES, {"closed": True})
    figures = {
        "lineBytes": len(LINE.format(i=0)),
        "burst": {
            "lines": BURST_LINES,
            "delivered": delivered,
            "linesPerSecond": round(BURST_LINES / burst["totalSeconds"]),
            "addLinesPerSecond": round(BURST_LINES / burst["addSeconds"]),
            **burst,
        },
        "shipping": {
            "linesPerSecond": round(BURST_LINES / backlog["closeSeconds"]),
            **backlog,
        },
        "backendDown": {"lines": DOWN_LINES, **down},
        "runnerBurst": _through_runner(BURST_LINES),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "collector_throughput.json").write_text(json.dumps(figures, indent=2) + "\n")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    args = parser.parse_args()
    print(json.dumps(run(args.out), indent=2))


if __name__ == "__main__":
    main()
