"""Burst: N Executions created at once → each one's pod created, as a watch sees it.

The pods are pinned to a node that does not exist, so none runs: only the
operator's path from a new Execution to its pod is measured. The latency of
one Execution is (watch saw its pod ADDED) - (its create call returned), both
on this process's monotonic clock. `cpu`: where the CPU went meanwhile (`cpu.py`).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from bench import cluster, cpu
from bench.figures import percentile


def measure(image: str, count: int, log_dir: Path) -> dict[str, Any]:
    pods_seen: dict[str, float] = {}
    lock = threading.Lock()

    def on_pod(event: cluster.Event) -> None:
        kind, pod, seen = event
        owner = cluster.owner_of(pod)
        if kind == "ADDED" and owner:
            with lock:
                pods_seen.setdefault(owner, seen)

    with (
        cluster.e2e_lock(),
        cluster.operator(log_dir, image, "burst") as operator,
        cluster.namespace("bench-burst") as namespace,
    ):
        assert operator.process is not None
        meter = cpu.CpuMeter(operator.process.pid)
        watch = cluster.pod_watch(namespace, on_pod)
        bodies = [cluster.execution(f"b-{i:04d}", cluster.NOWHERE) for i in range(count)]
        with meter.window():
            created = cluster.create_all(
                namespace, bodies, cluster.create_execution(cluster.custom_api()), threads=16
            )
            cluster.wait_for(lambda: len(pods_seen) >= count, 120 + count, f"{count} pods")
        watch.stop()
    latencies = sorted((pods_seen[name] - created[name]) * 1000 for name in created)
    first, last = min(created.values()), max(pods_seen.values())
    spent = meter.budget(count)
    spent["latencyBoundsMs"] = latency_bounds(list(created.values()), spent)
    return {
        "executions": count,
        "createSpanMs": round((max(created.values()) - first) * 1000),
        "allPodsAfterMs": round((last - first) * 1000),
        "p50Ms": round(percentile(latencies, 0.5), 1),
        "p99Ms": round(percentile(latencies, 0.99), 1),
        "maxMs": round(latencies[-1], 1),
        "cpu": spent,
        "latenciesMs": [round(x, 1) for x in latencies],
    }


def latency_bounds(arrivals: list[float], spent: dict[str, Any]) -> dict[str, float]:
    """p50/p99 of the arrivals through the machine as one queue at its two bounds.

    An estimate, not a proof: it counts no round trip, but all CPU of the window as
    on the way to the pods (some, like Events, is not). `withoutOperator`: what an
    operator that cost nothing would get on this machine.
    """
    bounds = {}
    for name, rate in (
        ("atThisCost", spent["boundExecutionsPerSecond"]),
        ("withoutOperator", spent["boundWithoutOperatorExecutionsPerSecond"]),
    ):
        if rate:
            least = [1000 * x for x in cpu.queue_latencies(arrivals, rate)]
            bounds[f"{name}P50"] = round(percentile(least, 0.5), 1)
            bounds[f"{name}P99"] = round(percentile(least, 0.99), 1)
    return bounds
