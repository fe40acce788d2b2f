"""Scenarios 2, 3 and 4: pods deleted, evicted or on a lost node; the API server down or frozen."""

from __future__ import annotations

import time
from typing import Any

import pytest
from kubernetes import client

from tests.faults.scene import Scene
from tests.support import cluster_components
from tests.support.operator_process import OperatorProcess

pytestmark = [pytest.mark.faults, pytest.mark.cluster]

# Long enough to be caught running, short enough to finish after a retry.
DOUBLE_AFTER = "import time\ntime.sleep(data['s'])\nresult = {'double': data['x'] * 2}\n"


def _evict(core: client.CoreV1Api, namespace: str, pod: str) -> None:
    # 1.20 serves the policy/v1beta1 Eviction (policy/v1 came with 1.22).
    body = {
        "apiVersion": "policy/v1beta1",
        "kind": "Eviction",
        "metadata": {"name": pod, "namespace": namespace},
    }
    core.create_namespaced_pod_eviction(pod, namespace, body)


def _delete(core: client.CoreV1Api, namespace: str, pod: str) -> None:
    core.delete_namespaced_pod(pod, namespace, grace_period_seconds=0)


def _double(scene: Scene, name: str, x: int, seconds: float, **spec: Any) -> None:
    scene.apply(name, {"code": DOUBLE_AFTER, "input": {"x": x, "s": seconds}, **spec})


@pytest.mark.scenario("2-infrastructure-failures")
@pytest.mark.parametrize("how", ["deleted", "evicted"])
def test_pod_lost_mid_run_is_rerun_per_retries(
    how: str, scene: Scene, figures: dict[str, Any]
) -> None:
    _double(scene, "twice", 21, 6, retries=1)
    _double(scene, "never", 1, 30, retries=0)
    for name in ("twice", "never"):
        pod = scene.wait(name, "Running", timeout=60)["podName"]
        (_evict if how == "evicted" else _delete)(scene.core, scene.namespace, pod)
    retried = scene.wait("twice", "Succeeded", "Failed", "Cancelled", timeout=90)
    failed = scene.wait("never", timeout=90)
    figures.update(retriedAttempts=retried.get("attempts"), noRetryReason=failed.get("reason"))

    assert (retried["phase"], retried["result"], retried["attempts"]) == (
        "Succeeded",
        {"double": 42},
        2,
    ), retried
    assert (failed["phase"], failed["reason"], failed["code"], failed["attempts"]) == (
        "Failed",
        "PodFailed",
        500,
        1,
    ), failed
    figures.update(scene.settled(2, timeout=5)[1])


@pytest.mark.scenario("2-infrastructure-failures")
@pytest.mark.timeout(600)
def test_node_lost_while_running(scene: Scene, figures: dict[str, Any]) -> None:
    _double(scene, "on-node", 4, 10, retries=1)
    scene.wait("on-node", "Running", timeout=60)
    started = time.monotonic()
    # Longer than the node-monitor grace period (40 s) the kubelet's heartbeats have.
    with cluster_components.stopped(scene.core, "kubelet"):
        time.sleep(50)  # the outage itself is the fault under test, not a wait for a condition
    status = scene.wait("on-node", "Succeeded", "Failed", "Cancelled", timeout=180)
    figures.update(
        attempts=status.get("attempts"),
        reason=status.get("reason"),
        terminalAfterKubeletStopS=round(time.monotonic() - started, 1),
    )
    assert (status["phase"], status["result"]) == ("Succeeded", {"double": 8}), status
    figures.update(scene.settled(1, timeout=5)[1])


@pytest.mark.scenario("3-apiserver-down-60s")
@pytest.mark.timeout(600)
def test_apiserver_stopped_for_60_seconds(
    operator: OperatorProcess, scene: Scene, figures: dict[str, Any]
) -> None:
    assert operator.process is not None
    pid = operator.process.pid
    before = ["before-0", "before-1", "before-2"]
    for i, name in enumerate(before):
        _double(scene, name, i, 15)
    for name in before:
        scene.wait(name, "Running", "Succeeded", timeout=60)
    with cluster_components.stopped(scene.core, "kube-apiserver"):
        time.sleep(60)  # the outage itself is the fault under test
    recovered = time.monotonic()
    after = ["after-0", "after-1", "after-2"]
    for i, name in enumerate(after):
        _double(scene, name, 10 + i, 1)
    started_in = []
    for name in after:
        scene.wait(name, "Running", "Succeeded", "Failed", timeout=90)
        started_in.append(round(time.monotonic() - recovered, 1))
    items, counts = scene.settled(6, timeout=120)
    figures.update(afterRecoveryStartedWithinS=started_in, **counts)
    results = {
        e["metadata"]["name"]: (e["status"]["phase"], e["status"].get("result")) for e in items
    }
    wanted = {
        n: ("Succeeded", {"double": 2 * x})
        for n, x in zip(before + after, [0, 1, 2, 10, 11, 12], strict=True)
    }
    assert results == wanted
    assert operator.process.pid == pid  # never restarted
    assert operator.process.poll() is None


@pytest.mark.scenario("4-apiserver-frozen-10s")
@pytest.mark.timeout(600)
def test_apiserver_frozen_for_10_seconds(scene: Scene, figures: dict[str, Any]) -> None:
    total = 12
    for i in range(total // 2):
        _double(scene, f"f-{i}", i, 2)
    with cluster_components.paused(scene.core, "kube-apiserver"):
        time.sleep(10)  # the freeze itself is the fault under test
    for i in range(total // 2, total):
        _double(scene, f"f-{i}", i, 2)
    started = time.monotonic()
    items, counts = scene.settled(total, timeout=180)
    figures.update(executions=total, drainedAfterResumeS=round(time.monotonic() - started, 1))
    figures.update(counts)
    wrong = [
        e["metadata"]["name"]
        for e in items
        if e["status"].get("result") != {"double": 2 * int(e["metadata"]["name"][2:])}
    ]
    assert not wrong, wrong
    assert counts["pods"] == total
