"""Node burst: N hello Executions vs N bare pods (`python3 -c`, same image) on the real node.

Drain throughput = N / (first create → last terminal seen by a watch), each
kind in its own namespace, in one locked stretch with the operator running;
each drain starts once the node has torn the one before down. The bare pods
request what the operator's pods request by default, so only about 20 fit the
node at once and the scheduler places the rest in waves, retrying each with a
back-off of seconds: how those waves fall moves one drain by seconds. So the
kinds take turns for `rounds` rounds (bare pods first in odd rounds, Executions
in even ones), and each kind's figures are those of its median drain.

Each kind also reports where its drain went: `cpu`, the CPU each process used
meanwhile (`cpu.py`), and `stages`, the median seconds of each pod from created
to scheduled, scheduled to running and running to terminal, as a pod watch saw
them, with how many pods the scheduler turned away at first.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from execution_operator.settings import Settings

from bench import cluster, cpu
from tests.support import kube

POD_TERMINAL = ("Succeeded", "Failed")
STAGES = (("created", "scheduled"), ("scheduled", "running"), ("running", "terminal"))


def _bare_pod(name: str, image: str) -> dict[str, Any]:
    pod = kube.restricted_python_pod(name, "print('hello')")
    pod["spec"]["containers"][0]["image"] = image
    # The Executions' pods get the operator's default requests, which let the scheduler
    # place only so many at once on this node: the bare pods get the same.
    pod["spec"]["containers"][0]["resources"] = Settings().default_resources
    return pod


class PodStages:
    """When a watch first saw each pod created, scheduled, running and terminal."""

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, float]] = {}
        self.turned_away: set[str] = set()
        self._lock = threading.Lock()

    def on_event(self, event: cluster.Event) -> None:
        _, pod, seen = event
        status = pod.get("status") or {}
        reached = ["created"]
        if pod["spec"].get("nodeName"):
            reached.append("scheduled")
        if status.get("phase") == "Running":
            reached.append("running")
        if status.get("phase") in POD_TERMINAL:
            reached.append("terminal")
        unschedulable = any(
            c.get("type") == "PodScheduled" and c.get("status") == "False"
            for c in status.get("conditions") or []
        )
        with self._lock:
            stages = self.seen.setdefault(pod["metadata"]["name"], {})
            for stage in reached:
                stages.setdefault(stage, seen)
            if unschedulable:
                self.turned_away.add(pod["metadata"]["name"])

    def summary(self) -> dict[str, Any]:
        medians = {}
        for start, end in STAGES:
            spans = [s[end] - s[start] for s in self.seen.values() if start in s and end in s]
            medians[f"{start}To{end.capitalize()}"] = (
                round(statistics.median(spans), 2) if spans else None
            )
        return {"medianSeconds": medians, "podsTurnedAwayByScheduler": len(self.turned_away)}


@dataclass(frozen=True)
class Kind:
    """One kind of the drain: how its objects are made, watched and seen to end."""

    namespace_prefix: str
    bodies: Callable[[], list[dict[str, Any]]]
    create: Callable[[str, dict[str, Any]], Any]
    watch: Callable[[str, Callable[[cluster.Event], None]], cluster.Watch]
    phase_of: Callable[[dict[str, Any]], str | None]
    terminal: tuple[str, ...]
    operator_pid: int | None = None  # its CPU counted apart (`cpu.py`)


def _drain(kind: Kind) -> dict[str, Any]:
    done: dict[str, tuple[float, str]] = {}
    lock = threading.Lock()

    def on_event(event: cluster.Event) -> None:
        _, body, seen = event
        phase = kind.phase_of(body)
        if phase in kind.terminal:
            with lock:
                done.setdefault(body["metadata"]["name"], (seen, str(phase)))

    bodies = kind.bodies()
    count = len(bodies)
    stages = PodStages()
    meter = cpu.CpuMeter(kind.operator_pid)
    with cluster.namespace(kind.namespace_prefix) as namespace:
        watchers = [kind.watch(namespace, on_event), cluster.pod_watch(namespace, stages.on_event)]
        with meter.window():
            started = time.monotonic()
            cluster.create_all(namespace, bodies, kind.create)
            cluster.wait_for(lambda: len(done) >= count, 60 + 5 * count, f"{count} to finish")
        for watcher in watchers:
            watcher.stop()
    times = sorted(seen - started for seen, _ in done.values())
    failed = sum(1 for _, phase in done.values() if phase != "Succeeded")
    return {
        "count": count,
        "failed": failed,
        "seconds": round(times[-1], 2),
        "perSecond": round(count / times[-1], 3),
        "stages": stages.summary(),
        "cpu": meter.budget(count),
        "doneAfterSeconds": [round(t, 3) for t in times],
    }


def _phase(body: dict[str, Any]) -> str | None:
    """A pod's or an Execution's status.phase."""
    return (body.get("status") or {}).get("phase")


KINDS = ("barePods", "executions")


def median_drains(drains: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Each kind's median drain (by seconds), with every round's time (pure; odd rounds)."""
    result: dict[str, Any] = {
        "rounds": [
            {kind: {"seconds": drains[kind][i]["seconds"]} for kind in KINDS}
            for i in range(len(drains[KINDS[0]]))
        ]
    }
    for kind in KINDS:
        ordered = sorted(drains[kind], key=lambda drained: drained["seconds"])
        result[kind] = ordered[len(ordered) // 2]
    return result


def measure(image: str, count: int, log_dir: Path, rounds: int = 1) -> dict[str, Any]:
    drains: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    with cluster.e2e_lock():
        baseline = cluster.node_containers()
        with cluster.operator(log_dir, image, "node-burst") as operator:
            assert operator.process is not None
            kinds = {
                "barePods": Kind(
                    "bench-node-bare",
                    lambda: [_bare_pod(f"bare-{i:03d}", image) for i in range(count)],
                    cluster.core_api().create_namespaced_pod,
                    cluster.pod_watch,
                    _phase,
                    POD_TERMINAL,
                ),
                "executions": Kind(
                    "bench-node-exe",
                    lambda: [cluster.execution(f"hello-{i:03d}") for i in range(count)],
                    cluster.create_execution(cluster.custom_api()),
                    cluster.execution_watch,
                    _phase,
                    cluster.TERMINAL,
                    operator.process.pid,
                ),
            }
            order = [kind for r in range(rounds) for kind in (KINDS if r % 2 == 0 else KINDS[::-1])]
            for turn, kind in enumerate(order):
                if turn:  # the node's teardown (about a minute) only between drains
                    cluster.wait_node_quiet(baseline)
                drains[kind].append(_drain(kinds[kind]))
    return median_drains(drains)
