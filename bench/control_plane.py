"""Control-plane throughput and operator memory, with the kubelet simulated (fake_kubelet).

`rounds()`: R rounds of N Executions against one operator process; each round
measures Executions reaching a terminal phase per second (create of the first
→ the watch seeing the last terminal), and the operator's RSS once the round is
done. Round 1 gives `controlPlaneExecutionsPerSecond`; the RSS of round 1 vs
round R gives `operatorRssGrowthPercent`; each round's `cpu` says where the CPU
went while it measured (`cpu.py`).

`at_scale()`: N Executions (pods pinned to no node) plus M unrelated pods
present; the operator's RSS once it has made every pod.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from bench import cluster, cpu
from bench.fake_kubelet import FakeKubelet, bound_pod, fake_node

SETTLE_SECONDS = 3.0
STALL_SECONDS = 30.0
SETTLE_TIMEOUT = 300.0


class Terminals:
    """When each Execution of a namespace was first seen terminal, and with which phase."""

    def __init__(self, namespace: str) -> None:
        self.done: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()
        self._watch = cluster.execution_watch(namespace, self._on_event)

    def _on_event(self, event: cluster.Event) -> None:
        _, body, seen = event
        phase = (body.get("status") or {}).get("phase")
        if phase in cluster.TERMINAL:
            with self._lock:
                self.done.setdefault(body["metadata"]["name"], (seen, phase))

    def stop(self) -> None:
        self._watch.stop()


def wait_progress(
    count: Any, target: int, stall: float = STALL_SECONDS, work: Any = lambda: 0
) -> bool:
    """Waits until `count()` reaches `target`; gives up after `stall` s without progress.

    Progress is `count()` or `work()` (steps before the counted end, e.g. pods made and
    finished) changing: the first of a burst's ends can come only after every Execution
    of the burst has had its first step, which takes longer than `stall` on a slow machine.
    """
    last: Any = None
    moved = time.monotonic()
    while (now := count()) < target:
        seen = (now, work())
        if seen != last:
            last, moved = seen, time.monotonic()
        elif time.monotonic() - moved > stall:
            return False
        time.sleep(0.1)
    return True


def one_round(node: str, count: int, index: int, operator_pid: int) -> dict[str, Any]:
    meter = cpu.CpuMeter(operator_pid)
    with cluster.namespace(f"bench-cp{index}") as namespace, meter.window():
        terminals = Terminals(namespace)
        kubelet = FakeKubelet(namespace, node)
        selector = {"kubernetes.io/hostname": node}
        bodies = [cluster.execution(f"c-{i:05d}", selector) for i in range(count)]
        started = time.monotonic()
        cluster.create_all(namespace, bodies, cluster.create_execution(cluster.custom_api()))
        created = time.monotonic()
        complete = wait_progress(
            lambda: len(terminals.done), count, work=lambda: (kubelet.seen, kubelet.finished)
        )
        terminals.stop()
        kubelet.stop()
    times = sorted(seen - started for seen, _ in terminals.done.values())
    phases: dict[str, int] = {}
    for _, phase in terminals.done.values():
        phases[phase] = phases.get(phase, 0) + 1
    span = times[-1] if times else float("nan")
    return {
        "executions": count,
        "terminal": len(times),
        "complete": complete,
        "phases": phases,
        "createSeconds": round(created - started, 2),
        "seconds": round(span, 2),
        "executionsPerSecond": round(len(times) / span, 2) if times else 0.0,
        "terminalAfterSeconds": [round(t, 3) for t in times],
        "kubelet": kubelet.summary(),
        "cpu": meter.budget(count),
    }


def rounds(image: str, count: int, how_many: int, log_dir: Path) -> dict[str, Any]:
    results = []
    with (
        cluster.e2e_lock(),
        fake_node() as node,
        cluster.operator(log_dir, image, "control-plane") as operator,
    ):
        assert operator.process is not None
        pid = operator.process.pid
        for index in range(how_many):
            result = one_round(node, count, index, pid)
            if not result["terminal"]:
                results.append(result)
                break  # nothing finishes: more rounds would only wait as long again
            time.sleep(SETTLE_SECONDS)  # let the round's last events land before sampling
            result["operatorRssMiB"] = round(cluster.rss_mib(pid), 1)
            cluster.memory_report(operator)
            results.append(result)
        peak = cluster.rss_mib(pid, "VmHWM")
    return {"rounds": results, "operatorPeakRssMiB": round(peak, 1)}


def at_scale(image: str, executions: int, unrelated: int, log_dir: Path) -> dict[str, Any]:
    pods_made: set[str] = set()

    def on_pod(event: cluster.Event) -> None:
        if event[0] == "ADDED" and cluster.managed(event[1]):
            pods_made.add(event[1]["metadata"]["name"])

    with (
        cluster.e2e_lock(),
        fake_node() as node,
        cluster.namespace("bench-scale") as namespace,
    ):
        core = cluster.core_api()
        # The Executions exist before the operator starts: their CRD must be there first
        # (a test run may have removed it).
        cluster.install_crds()
        cluster.create_all(
            namespace,
            [bound_pod(f"u-{i:05d}", node) for i in range(unrelated)],
            core.create_namespaced_pod,
        )
        bodies = [cluster.execution(f"s-{i:05d}", cluster.NOWHERE) for i in range(executions)]
        cluster.create_all(namespace, bodies, cluster.create_execution(cluster.custom_api()))
        watch = cluster.pod_watch(namespace, on_pod)
        with cluster.operator(log_dir, image, "scale") as operator:
            assert operator.process is not None
            started = time.monotonic()
            complete = wait_progress(lambda: len(pods_made), executions)
            seconds = time.monotonic() - started
            time.sleep(SETTLE_SECONDS)
            rss = cluster.rss_mib(operator.process.pid)
            peak = cluster.rss_mib(operator.process.pid, "VmHWM")
            cluster.memory_report(operator)
            # Once the backlog of events is worked off, only what is kept per object remains.
            idle = cluster.wait_idle(operator.process.pid, SETTLE_TIMEOUT)
            settled = cluster.rss_mib(operator.process.pid)
            cluster.memory_report(operator)
        watch.stop()
        # No kubelet will confirm their end: delete them at once, or the namespace hangs.
        core.delete_collection_namespaced_pod(
            namespace, label_selector="app=unrelated", grace_period_seconds=0
        )
    return {
        "executions": executions,
        "unrelatedPods": unrelated,
        "podsMade": len(pods_made),
        "complete": complete,
        "secondsToAllPods": round(seconds, 1),
        "operatorRssMiB": round(rss, 1),
        "operatorPeakRssMiB": round(peak, 1),
        "operatorSettledRssMiB": round(settled, 1),
        "operatorIdleBeforeSettledSample": idle,
    }
