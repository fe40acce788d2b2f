"""The operator's memory follows its own work, not the number of pods in the cluster."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.support import kube
from tests.support.operator_process import OperatorProcess

Apply = Callable[..., dict[str, Any]]
Wait = Callable[..., dict[str, Any]]
UNRELATED_PODS = 2000


def _rss_bytes(process: OperatorProcess) -> int:
    assert process.process is not None
    status = Path(f"/proc/{process.process.pid}/status").read_text()
    kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(kib) * 1024


def _settled_rss(
    operator: OperatorProcess, apply_execution: Apply, wait_phase: Wait, name: str
) -> int:
    """RSS of a freshly started operator that has listed everything and run one Execution."""
    operator.stop()
    operator.start()
    apply_execution(name, {"code": "result = 1"})
    assert wait_phase(name, timeout=60)["phase"] == "Succeeded"
    return _rss_bytes(operator)


@pytest.mark.slow
def test_unrelated_pods_do_not_grow_the_operator(
    operator: OperatorProcess,
    apply_execution: Apply,
    wait_phase: Wait,
    core: client.CoreV1Api,
    namespace: str,
) -> None:
    baseline = _settled_rss(operator, apply_execution, wait_phase, "baseline")

    # Bound to a node that does not exist: they never run and cost the node nothing.
    def create(i: int) -> None:
        core.create_namespaced_pod(
            namespace,
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": f"unrelated-{i}", "labels": {"app": "unrelated"}},
                "spec": {
                    "nodeName": "no-such-node",
                    "containers": [{"name": "c", "image": kube.BASE_IMAGE}],
                },
            },
        )

    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(create, range(UNRELATED_PODS)))
        with_pods = _settled_rss(operator, apply_execution, wait_phase, "with-pods")
    finally:
        core.delete_collection_namespaced_pod(
            namespace, label_selector="app=unrelated", grace_period_seconds=0
        )
    assert with_pods <= baseline * 1.10, (baseline, with_pods)
