"""kill, kill_all, teardown, watch expiry, and construction like kubectl."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from execution_operator.client import ClusterExecutor, ExecutionHandle
from execution_operator.client._watch import WatchStats, wait_for
from kubernetes import client

from tests.support import kube
from tests.support.operator_process import OperatorProcess

SLEEPER = "import time\nprint('started', flush=True)\ntime.sleep(600)\n"


def running(handle: ExecutionHandle) -> None:
    kube.wait_until(lambda: handle.status.get("phase") == "Running", 60, f"{handle} Running")


def test_kill_cancels_within_its_timeout(executor: ClusterExecutor) -> None:
    handle = executor.submit(SLEEPER, timeout_secs=300)
    running(handle)
    assert executor.kill(handle, timeout=15)
    status = handle.status
    assert (status["phase"], status["reason"]) == ("Cancelled", "Cancelled")
    result = handle.wait()
    assert result["code"] == 500
    assert "Cancelled" in result["error"]


def test_kill_all_cancels_every_running_one(executor: ClusterExecutor) -> None:
    handles = [executor.submit(SLEEPER, timeout_secs=300) for _ in range(3)]
    done = executor.submit("result = 1\n")
    assert done.wait() == 1
    for handle in handles:
        running(handle)
    assert executor.kill_all_processes(timeout=15) == []  # the in-process executor's name
    assert [h.status["phase"] for h in handles] == ["Cancelled"] * 3
    assert done.status["phase"] == "Succeeded"  # finished ones are left as they were
    assert executor.kill(done)
    assert done.body()["spec"]["cancel"] is False


def test_teardown_deletes_exactly_what_the_client_created(
    operator: OperatorProcess,
    namespace: str,
    core: client.CoreV1Api,
    apply_execution: Callable[..., dict[str, Any]],
    wait_phase: Callable[..., dict[str, Any]],
) -> None:
    apply_execution("someone-elses", {"code": "result = 0"})
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="someone-elses-env"), string_data={"k": "v"}
        ),
    )
    calls: list[str] = []
    executor = ClusterExecutor(kubeconfig=kube.kubeconfig_path(), namespace=namespace)
    executor.register_teardown_callback(lambda: calls.append("first"))
    executor.register_teardown_callback(lambda: 1 / 0)  # raises; the others still run
    executor.register_teardown_callback(lambda: calls.append("last"))
    finished = executor.submit("result = 2\n", env_vars={"A": "1"})
    assert finished.wait() == 2
    still_running = executor.submit(SLEEPER, timeout_secs=300)
    mine = {finished.name, still_running.name}
    wait_phase("someone-elses")

    executor.teardown()

    assert calls == ["last", "first"]
    custom = client.CustomObjectsApi(core.api_client)

    def only_theirs_left() -> bool:
        names = {
            e["metadata"]["name"]
            for e in custom.list_namespaced_custom_object(
                "execution-operator.io", "v1alpha1", namespace, "executions"
            )["items"]
        }
        return names == {"someone-elses"}

    kube.wait_until(only_theirs_left, 30, "the client's Executions to be deleted")
    secrets = {s.metadata.name for s in core.list_namespaced_secret(namespace).items}
    assert "someone-elses-env" in secrets
    assert not {f"{name}-env" for name in mine} & secrets
    assert executor.created == []


def test_teardown_keep_leaves_objects_but_stops_them(executor: ClusterExecutor) -> None:
    handle = executor.submit(SLEEPER, timeout_secs=300)
    running(handle)
    executor.teardown(keep=True, timeout=15)
    assert handle.status["phase"] == "Cancelled"
    assert executor.created == [handle.name]


def test_wait_survives_an_expired_watch(executor: ClusterExecutor, namespace: str) -> None:
    handle = executor.submit("import time\ntime.sleep(2)\nresult = 3\n")
    stats = WatchStats()
    # A resourceVersion long compacted away: the API server answers 410 Gone.
    body = wait_for(
        executor._api.api,
        namespace,
        handle.name,
        lambda obj: (obj.get("status") or {}).get("phase") == "Succeeded",
        120,
        resource_version="1",
        stats=stats,
    )
    assert body["status"]["result"] == 3
    assert stats.expired >= 1
    assert stats.relists >= 1


def test_no_arguments_means_the_current_context_and_its_namespace(
    operator: OperatorProcess, namespace: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = yaml.safe_load(Path(kube.kubeconfig_path()).read_text())
    current = next(c for c in config["contexts"] if c["name"] == config["current-context"])
    current["context"]["namespace"] = namespace
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    with ClusterExecutor() as executor:
        assert executor.namespace == namespace
        assert executor.execute("result = data * 2", 21) == 42
