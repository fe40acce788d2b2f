"""Burst: N Executions created at once → each one's pod created, as a watch sees it.

The pods are pinned to a node that does not exist, so none runs: only the
operator's path from a new Execution to its pod is measured. The latency of
one Execution is (watch saw its pod ADDED) - (its create call returned), both
on this process's monotonic clock.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import cluster
from bench.figures import percentile


def measure(
    image: str,
    count: int,
    log_dir: Path,
    window: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext,
) -> dict[str, Any]:
    """`window`: entered around the measured part only (the creations until every pod)."""
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
        cluster.operator(log_dir, image, "burst"),
        cluster.namespace("bench-burst") as namespace,
    ):
        watch = cluster.pod_watch(namespace, on_pod)
        bodies = [cluster.execution(f"b-{i:04d}", cluster.NOWHERE) for i in range(count)]
        with window():
            created = cluster.create_all(
                namespace, bodies, cluster.create_execution(cluster.custom_api()), threads=16
            )
            cluster.wait_for(lambda: len(pods_seen) >= count, 120 + count, f"{count} pods")
        watch.stop()
    latencies = sorted((pods_seen[name] - created[name]) * 1000 for name in created)
    first, last = min(created.values()), max(pods_seen.values())
    return {
        "executions": count,
        "createSpanMs": round((max(created.values()) - first) * 1000),
        "allPodsAfterMs": round((last - first) * 1000),
        "p50Ms": round(percentile(latencies, 0.5), 1),
        "p99Ms": round(percentile(latencies, 0.99), 1),
        "maxMs": round(latencies[-1], 1),
        "latenciesMs": [round(x, 1) for x in latencies],
    }
