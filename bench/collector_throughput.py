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

from tests.integration.runner.harness import Payload, Workdir, run_payload
from tests.support.log_backend import LogBackend, closed_port

BURST_LINES = 200_000
DOWN_LINES = 1_000_000
LINE = "epoch 3 step {i:07d} loss=0.123456 lr=0.0003 grad_norm=1.2345 samples/s=1234.5"
IDENTITY = {"namespace": "bench", "name": "bench", "uid": "0" * 36, "pod": "bench-1", "node": "n"}
ATTRIBUTES = {"optimization_id": "opt-bench", "job_id": "job-bench"}
CLOSE_DEADLINE = 2.0
RSS_SAMPLE_EVERY = 20_000


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def _peak_rss_bytes() -> int:
    """This process's own high-water RSS (ru_maxrss would include the parent's, from fork)."""
    return _status_kib("VmHWM") * 1024


def _rss_mib() -> float:
    return round(_status_kib("VmRSS") / 1024, 1)


def _collector_child(endpoint: str, lines: int, logs: dict[str, Any]) -> dict[str, Any]:
    """In the child: add `lines` as fast as possible, close, report."""
    from execution_runner.collector.log_collector import LogCollector  # noqa: PLC0415
    from execution_runner.config import log_settings  # noqa: PLC0415
    from execution_runner.redact import Redactor  # noqa: PLC0415

    rss_before = _peak_rss_bytes()
    settings = {"endpoint": endpoint, "attributes": ATTRIBUTES, **logs}
    collector = LogCollector(
        log_settings(settings), IDENTITY, Redactor(["not-in-any-line"]), "key", "ws"
    )
    collector.start()
    started = time.perf_counter()
    rss_samples = []  # (lines added, seconds, current RSS in MiB): the RSS plot
    for i in range(lines):
        collector.add("stdout", LINE.format(i=i))
        if i % RSS_SAMPLE_EVERY == 0:
            rss_samples.append((i, round(time.perf_counter() - started, 3), _rss_mib()))
    added = time.perf_counter()
    counters = collector.close(CLOSE_DEADLINE if "closed" in logs else 120)
    finished = time.perf_counter()
    return {
        "counters": counters,
        "retries": collector.retries,
        "addSeconds": added - started,
        "totalSeconds": finished - started,
        "closeSeconds": finished - added,
        "peakQueueBytes": collector.peak_queue_bytes,
        "peakRssBytesBeforeCollector": rss_before,
        "peakRssBytes": _peak_rss_bytes(),
        "rssSamples": rss_samples,
    }


def _in_child(endpoint: str, lines: int, logs: dict[str, Any]) -> dict[str, Any]:
    args = [sys.executable, "-m", "bench.collector_throughput", "--child", endpoint]
    args += ["--lines", str(lines), "--logs", json.dumps(logs)]
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
        burst = _in_child(backend.url, BURST_LINES, {})
        delivered = len(backend.records())
    # Throughput of the shipping side alone: everything queued first (a queue big enough).
    with LogBackend() as backend:
        backlog = _in_child(
            backend.url, BURST_LINES, {"maxQueueBytes": 1 << 30, "flushIntervalMillis": 600_000}
        )
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
    parser.add_argument("--child", metavar="ENDPOINT")
    parser.add_argument("--lines", type=int, default=BURST_LINES)
    parser.add_argument("--logs", default="{}")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_collector_child(args.child, args.lines, json.loads(args.logs))))
    else:
        print(json.dumps(run(args.out), indent=2))


if __name__ == "__main__":
    main()
