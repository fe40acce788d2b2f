"""Node burst: N hello Executions vs N bare pods (`python3 -c`, same image) on the real node.

Drain throughput = N / (first create → last terminal seen by a watch), each
kind in its own namespace, bare pods first, in one locked stretch; the
Executions start once the node has torn the bare pods down. The bare pods
request what the operator's pods request by default.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from execution_operator.settings import Settings

from bench import cluster
from tests.support import kube

POD_TERMINAL = ("Succeeded", "Failed")


def _bare_pod(name: str, image: str) -> dict[str, Any]:
    pod = kube.restricted_python_pod(name, "print('hello')")
    pod["spec"]["containers"][0]["image"] = image
    # The Executions' pods get the operator's default requests, which let the scheduler
    # place only so many at once on this node: the bare pods get the same.
    pod["spec"]["containers"][0]["resources"] = Settings().default_resources
    return pod


def _drain(  # noqa: PLR0917 - one call per kind, every argument differs
    namespace: str,
    bodies: list[dict[str, Any]],
    create: Callable[[str, dict[str, Any]], Any],
    watch: Callable[[str, Callable[[cluster.Event], None]], cluster.Watch],
    phase_of: Callable[[dict[str, Any]], str | None],
    terminal: tuple[str, ...],
) -> dict[str, Any]:
    done: dict[str, tuple[float, str]] = {}
    lock = threading.Lock()

    def on_event(event: cluster.Event) -> None:
        _, body, seen = event
        phase = phase_of(body)
        if phase in terminal:
            with lock:
                done.setdefault(body["metadata"]["name"], (seen, str(phase)))

    watcher = watch(namespace, on_event)
    started = time.monotonic()
    cluster.create_all(namespace, bodies, create)
    count = len(bodies)
    cluster.wait_for(lambda: len(done) >= count, 60 + 5 * count, f"{count} to finish")
    watcher.stop()
    times = sorted(seen - started for seen, _ in done.values())
    failed = sum(1 for _, phase in done.values() if phase != "Succeeded")
    return {
        "count": count,
        "failed": failed,
        "seconds": round(times[-1], 2),
        "perSecond": round(count / times[-1], 3),
        "doneAfterSeconds": [round(t, 3) for t in times],
    }


def measure(image: str, count: int, log_dir: Path) -> dict[str, Any]:
    core = cluster.core_api()
    with cluster.e2e_lock():
        baseline = cluster.node_containers()
        with cluster.namespace("bench-node-bare") as namespace:
            bare = _drain(
                namespace,
                [_bare_pod(f"bare-{i:03d}", image) for i in range(count)],
                core.create_namespaced_pod,
                cluster.pod_watch,
                lambda pod: (pod.get("status") or {}).get("phase"),
                POD_TERMINAL,
            )
        cluster.wait_node_quiet(baseline)
        with (
            cluster.operator(log_dir, image, "node-burst"),
            cluster.namespace("bench-node-exe") as namespace,
        ):
            executions = _drain(
                namespace,
                [cluster.execution(f"hello-{i:03d}") for i in range(count)],
                cluster.create_execution(cluster.custom_api()),
                cluster.execution_watch,
                lambda body: (body.get("status") or {}).get("phase"),
                cluster.TERMINAL,
            )
    return {"barePods": bare, "executions": executions}
