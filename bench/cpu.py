"""Where the CPU went while a benchmark measured, and what that bounds.

`CpuMeter(operator_pid).window()` wraps a benchmark's measured part and
records the CPU each process of the local cluster, the operator and the
benchmark's own process (its client, and the simulated kubelet) used, what the
whole machine did, and the API server's requests. `budget(count)` turns that
into costs per Execution and two bounds: the Executions per second this
machine could finish at the measured cost, and with an operator that cost
nothing. A figure above the second bound cannot be reached here by any operator.
"""

from __future__ import annotations

import collections
import contextlib
import math
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import cluster
from tests.support import kube

BENCH_PROCESS = "bench client and simulated kubelet"
OPERATOR = "operator"
TOP_REQUESTS = 10


def api_requests() -> collections.Counter[str]:
    """The API server's request counters, by verb, resource and subresource."""
    text = subprocess.run(
        ["kubectl", "--kubeconfig", kube.kubeconfig_path(), "get", "--raw", "/metrics"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    counts: collections.Counter[str] = collections.Counter()
    for line in text.splitlines():
        if line.startswith("apiserver_request_total{"):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
            key = f"{labels.get('verb')} {labels.get('resource')}"
            if labels.get("subresource"):
                key += f"/{labels['subresource']}"
            counts[key] += int(float(line.rpartition(" ")[2]))
    return counts


def machine_seconds() -> tuple[float, float]:
    """(CPU seconds busy, CPU seconds in all) over every core since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # guest time is already in user
    tick = os.sysconf("SC_CLK_TCK")
    return (total - idle) / tick, total / tick


def cluster_pids() -> dict[str, int]:
    """The local cluster's components, by name, from the pid files its scripts keep."""
    pids = {}
    for path in sorted((kube.STATE_DIR / "pids").glob("*.pid")):
        with contextlib.suppress(ValueError, OSError):
            pid = int(path.read_text().split()[0])
            if Path(f"/proc/{pid}").exists():
                pids[path.stem] = pid
    return pids


def budget(
    used: dict[str, float], busy: float, total: float, *, seconds: float, count: int, cores: int
) -> dict[str, Any]:
    """Costs per Execution and the throughput bounds they imply (pure)."""
    per = 1000 / count
    operator = used.get(OPERATOR, 0.0)
    return {
        "cores": cores,
        "seconds": round(seconds, 2),
        "machineBusyFraction": round(busy / total, 3) if total else None,
        "cpuMsPerExecution": {
            name: round(value * per, 1)
            for name, value in sorted(used.items(), key=lambda item: -item[1])
        },
        "machineCpuMsPerExecution": round(busy * per, 1),
        "boundExecutionsPerSecond": round(count * cores / busy, 1) if busy else None,
        "boundWithoutOperatorExecutionsPerSecond": (
            round(count * cores / (busy - operator), 1) if busy > operator else None
        ),
    }


def queue_latencies(arrivals: list[float], rate: float) -> list[float]:
    """Each arrival's latency through a FIFO that finishes `rate` per second (pure).

    The machine as one queue: an Execution's work starts when it arrives or when
    the one before is done, whichever is later, and takes 1/rate. No round trip
    or scheduling delay is counted.
    """
    done = -math.inf
    latencies = []
    for arrived in sorted(arrivals):
        done = max(done, arrived) + 1 / rate
        latencies.append(done - arrived)
    return latencies


class CpuMeter:
    def __init__(self, operator_pid: int | None = None) -> None:
        self._operator = operator_pid
        self._pids: dict[str, int] = {}
        self._before: dict[str, float] = {}
        self._requests: collections.Counter[str] = collections.Counter()
        self.requests: collections.Counter[str] = collections.Counter()
        self.used: dict[str, float] = {}
        self._machine = (0.0, 0.0, 0.0)
        self.busy = self.total = self.seconds = 0.0

    @contextlib.contextmanager
    def window(self) -> Iterator[None]:
        self._requests = api_requests()  # before the CPU counters: kubectl's CPU is not the run's
        self._pids = {**cluster_pids(), BENCH_PROCESS: os.getpid()}
        if self._operator is not None:
            self._pids[OPERATOR] = self._operator
        self._before = {name: cluster.cpu_seconds(pid) for name, pid in self._pids.items()}
        self._machine = (*machine_seconds(), time.monotonic())
        try:
            yield
        finally:
            self.seconds = time.monotonic() - self._machine[2]
            busy, total = machine_seconds()
            self.busy, self.total = busy - self._machine[0], total - self._machine[1]
            for name, pid in self._pids.items():
                with contextlib.suppress(OSError):
                    self.used[name] = cluster.cpu_seconds(pid) - self._before[name]
            self.requests = api_requests()
            self.requests.subtract(self._requests)

    def budget(self, count: int) -> dict[str, Any]:
        """What `budget()` makes of the window, with the most frequent API requests."""
        result = budget(
            self.used,
            self.busy,
            self.total,
            seconds=self.seconds,
            count=count,
            cores=os.cpu_count() or 1,
        )
        result["apiRequestsPerExecution"] = {
            key: round(n / count, 2) for key, n in self.requests.most_common(TOP_REQUESTS) if n > 0
        }
        return result
