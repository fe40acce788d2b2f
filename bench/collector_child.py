"""The measured process of the collector benchmark: the collector alone, nothing else.

Run by bench.collector_throughput as
`python -m bench.collector_child ENDPOINT LINES LOGS [--wait-when-full]`:
adds LINES lines as fast as it can, closes, prints the figures as JSON. It imports
only what the runner's process imports for the collector, so its RSS is the
collector's plus an interpreter's, not the benchmark harness's (HTTP server,
test helpers: about 10 MB more).
"""

from __future__ import annotations

import sys
import time
from typing import Any

LINE = "epoch 3 step {i:07d} loss=0.123456 lr=0.0003 grad_norm=1.2345 samples/s=1234.5"
IDENTITY = {"namespace": "bench", "name": "bench", "uid": "0" * 36, "pod": "bench-1", "node": "n"}
ATTRIBUTES = {"optimization_id": "opt-bench", "job_id": "job-bench"}
CLOSE_DEADLINE = 2.0
RSS_SAMPLE_EVERY = 20_000
# How often the runner asks ready(): once per pipe read (64 KiB: ~800 of these lines).
LINES_PER_READ = 800


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    return 0


def _peak_rss_bytes() -> int:
    """This process's own high-water RSS (ru_maxrss would include the parent's, from fork)."""
    return _status_kib("VmHWM") * 1024


def _rss_mib() -> float:
    return round(_status_kib("VmRSS") / 1024, 1)


def measure(
    endpoint: str, lines: int, logs: dict[str, Any], wait_when_full: bool
) -> dict[str, Any]:
    """Add `lines` as fast as possible, close, report.

    `wait_when_full`: like the runner, stop adding while the collector is not
    ready() (backpressure: nothing is dropped while the backend accepts);
    otherwise add on regardless (the worst case for memory: drops, bounded).
    """
    from execution_runner.collector.log_collector import LogCollector  # noqa: PLC0415
    from execution_runner.config import log_settings  # noqa: PLC0415
    from execution_runner.redact import Redactor  # noqa: PLC0415
    from execution_runner.supervise import BACKPRESSURE_POLL_SECONDS  # noqa: PLC0415

    rss_before = _peak_rss_bytes()
    settings = {"endpoint": endpoint, "attributes": ATTRIBUTES, **logs}
    collector = LogCollector(
        log_settings(settings), IDENTITY, Redactor(["not-in-any-line"]), "key", "ws"
    )
    collector.start()
    started = time.perf_counter()
    rss_samples = []  # (lines added, seconds, current RSS in MiB): the RSS plot
    waited = 0.0
    for i in range(lines):
        if wait_when_full and i % LINES_PER_READ == 0 and not collector.ready():
            pause = time.perf_counter()
            while not collector.ready():
                time.sleep(BACKPRESSURE_POLL_SECONDS)
            waited += time.perf_counter() - pause
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
        "waitedSeconds": waited,  # held back by backpressure
        "totalSeconds": finished - started,
        "closeSeconds": finished - added,
        "peakQueueBytes": collector.peak_queue_bytes,
        "peakRssBytesBeforeCollector": rss_before,
        "peakRssBytes": _peak_rss_bytes(),
        "rssSamples": rss_samples,
    }


def main() -> None:
    import json  # noqa: PLC0415  # the logs settings and the report

    endpoint, lines, logs = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    wait_when_full = sys.argv[4:] == ["--wait-when-full"]
    print(json.dumps(measure(endpoint, lines, logs, wait_when_full)))


if __name__ == "__main__":
    main()
