"""Scenarios 2, 3 and 4: pods deleted, evicted or on a lost node; the API server down or frozen."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client

from tests.faults import objects
from tests.support import cluster_components
from tests.support.operator_process import OperatorProcess

pytestmark = [pytest.mark.faults, pytest.mark.cluster]

Apply = Callable[..., dict[str, Any]]
Wait = Callable[..., dict[str, Any]]
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


@pytest.mark.scenario("2-infrastructure-failures")
@pytest.mark.parametrize("how", ["deleted", "evicted"])
def test_pod_lost_mid_run_is_rerun_per_retries(
    how: str,
    apply_execution: Apply,
    wait_phase: Wait,
    custom: client.CustomObjectsApi,
    core: client.CoreV1Api,
    namespace: str,
    figures: dict[str, Any],
) -> None:
    apply_execution("twice", {"code": DOUBLE_AFTER, "input": {"x": 21, "s": 6}, "retries": 1})
    apply_execution("never", {"code": DOUBLE_AFTER, "input": {"x": 1, "s": 30}, "retries": 0})
    for name in ("twice", "never"):
        pod = wait_phase(name, "Running", timeout=60)["podName"]
        (_evict if how == "evicted" else _delete)(core, namespace, pod)
    retried = wait_phase("twice", "Succeeded", "Failed", "Cancelled", timeout=90)
    failed = wait_phase("never", timeout=90)
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
    items = objects.wait_all_terminal(custom, namespace, 2, timeout=5)
    pods, maps = objects.owned(core, namespace)
    figures.update(objects.one_pod_and_map_per_attempt(items, pods, maps))


@pytest.mark.scenario("2-infrastructure-failures")
@pytest.mark.timeout(600)
def test_node_lost_while_running(
    apply_execution: Apply,
    wait_phase: Wait,
    custom: client.CustomObjectsApi,
    core: client.CoreV1Api,
    namespace: str,
    figures: dict[str, Any],
) -> None:
    apply_execution("on-node", {"code": DOUBLE_AFTER, "input": {"x": 4, "s": 10}, "retries": 1})
    wait_phase("on-node", "Running", timeout=60)
    started = time.monotonic()
    # Longer than the node-monitor grace period (40 s) the kubelet's heartbeats have.
    with cluster_components.stopped(core, "kubelet"):
        time.sleep(50)  # the outage itself is the fault under test, not a wait for a condition
    status = wait_phase("on-node", "Succeeded", "Failed", "Cancelled", timeout=180)
    figures.update(
        attempts=status.get("attempts"),
        reason=status.get("reason"),
        terminalAfterKubeletStopS=round(time.monotonic() - started, 1),
    )
    assert (status["phase"], status["result"]) == ("Succeeded", {"double": 8}), status
    items = objects.wait_all_terminal(custom, namespace, 1, timeout=5)
    pods, maps = objects.owned(core, namespace)
    figures.update(objects.one_pod_and_map_per_attempt(items, pods, maps))


@pytest.mark.scenario("3-apiserver-down-60s")
@pytest.mark.timeout(600)
def test_apiserver_stopped_for_60_seconds(
    operator: OperatorProcess,
    apply_execution: Apply,
    wait_phase: Wait,
    custom: client.CustomObjectsApi,
    core: client.CoreV1Api,
    namespace: str,
    figures: dict[str, Any],
) -> None:
    assert operator.process is not None
    pid = operator.process.pid
    before = ["before-0", "before-1", "before-2"]
    for i, name in enumerate(before):
        apply_execution(name, {"code": DOUBLE_AFTER, "input": {"x": i, "s": 15}})
    for name in before:
        wait_phase(name, "Running", "Succeeded", timeout=60)
    with cluster_components.stopped(core, "kube-apiserver"):
        time.sleep(60)  # the outage itself is the fault under test
    recovered = time.monotonic()
    after = ["after-0", "after-1", "after-2"]
    for i, name in enumerate(after):
        apply_execution(name, {"code": DOUBLE_AFTER, "input": {"x": 10 + i, "s": 1}})
    started_in = []
    for name in after:
        wait_phase(name, "Running", "Succeeded", "Failed", timeout=90)
        started_in.append(round(time.monotonic() - recovered, 1))
    items = objects.wait_all_terminal(custom, namespace, 6, timeout=120)
    figures.update(afterRecoveryStartedWithinS=started_in)
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
    pods, maps = objects.owned(core, namespace)
    figures.update(objects.one_pod_and_map_per_attempt(items, pods, maps))


@pytest.mark.scenario("4-apiserver-frozen-10s")
@pytest.mark.timeout(600)
def test_apiserver_frozen_for_10_seconds(
    apply_execution: Apply,
    wait_phase: Wait,
    custom: client.CustomObjectsApi,
    core: client.CoreV1Api,
    namespace: str,
    figures: dict[str, Any],
) -> None:
    total = 12
    for i in range(total // 2):
        apply_execution(f"f-{i}", {"code": DOUBLE_AFTER, "input": {"x": i, "s": 2}})
    with cluster_components.paused(core, "kube-apiserver"):
        time.sleep(10)  # the freeze itself is the fault under test
    for i in range(total // 2, total):
        apply_execution(f"f-{i}", {"code": DOUBLE_AFTER, "input": {"x": i, "s": 2}})
    started = time.monotonic()
    items = objects.wait_all_terminal(custom, namespace, total, timeout=180)
    figures.update(executions=total, drainedAfterResumeS=round(time.monotonic() - started, 1))
    wrong = [
        e["metadata"]["name"]
        for e in items
        if e["status"].get("result") != {"double": 2 * int(e["metadata"]["name"][2:])}
    ]
    assert not wrong, wrong
    pods, maps = objects.owned(core, namespace)
    counts = objects.one_pod_and_map_per_attempt(items, pods, maps)
    figures.update(counts)
    assert counts["pods"] == total
