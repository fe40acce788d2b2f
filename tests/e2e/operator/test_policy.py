"""The admin's policy on the real cluster: runner images, tolerations, a uid per run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubernetes import client

from tests.support import kube

Apply = Callable[..., dict[str, Any]]
Wait = Callable[..., dict[str, Any]]
PodsOf = Callable[[str], list[Any]]

# Forty processes of its own uid, held for 25 s: while the other run starts and ends.
HOLD_FORTY = """
import os, time
children = []
for _ in range(40):
    pid = os.fork()
    if pid == 0:
        time.sleep(25)
        os._exit(0)
    children.append(pid)
print("holding", len(children), flush=True)
print("the line before is mirrored once this one follows", flush=True)
for pid in children:
    os.waitpid(pid, 0)
result = len(children)
"""
# With `processes: 16`, four threads fail to start if other runs' processes count too.
FOUR_THREADS = """
import threading
threads = [threading.Thread(target=lambda: None) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
result = "four threads"
"""


def test_an_image_outside_the_allow_list_is_invalid_and_starts_no_pod(
    apply_execution: Apply, wait_phase: Wait, pods_of: PodsOf
) -> None:
    created = apply_execution("busybox", {"code": "result = 1", "image": "busybox:1.36"})
    status = wait_phase("busybox", timeout=30)

    assert (status["phase"], status["reason"]) == ("Failed", "InvalidSpec"), status
    assert "spec.image: 'busybox:1.36' is not an allowed runner image" in status["message"]
    assert pods_of(created["metadata"]["uid"]) == []


def test_tolerating_every_taint_is_invalid(
    apply_execution: Apply, wait_phase: Wait, pods_of: PodsOf
) -> None:
    spec = {"code": "result = 1", "podTemplate": {"tolerations": [{"operator": "Exists"}]}}
    created = apply_execution("tolerates-all", spec)
    status = wait_phase("tolerates-all", timeout=30)

    assert (status["phase"], status["reason"]) == ("Failed", "InvalidSpec"), status
    assert "spec.podTemplate.tolerations[0]" in status["message"]
    assert pods_of(created["metadata"]["uid"]) == []


def test_one_runs_processes_do_not_count_against_anothers_limit(
    apply_execution: Apply,
    wait_phase: Wait,
    pods_of: PodsOf,
    core: client.CoreV1Api,
    namespace: str,
) -> None:
    holder = apply_execution("holder", {"code": HOLD_FORTY, "timeoutSeconds": 90})
    started = wait_phase("holder", "Running", "Succeeded", "Failed", timeout=60)
    assert started["phase"] == "Running", started

    def holding() -> bool:
        pods = pods_of(holder["metadata"]["uid"])
        if not pods:
            return False
        log = core.read_namespaced_pod_log(pods[0].metadata.name, namespace)
        return "holding 40" in log

    kube.wait_until(holding, 60, "the holder to fork its forty processes")

    limited = apply_execution(
        "limited", {"code": FOUR_THREADS, "rlimits": {"processes": 16}, "timeoutSeconds": 30}
    )
    status = wait_phase("limited", timeout=60)
    assert (status["phase"], status.get("result")) == ("Succeeded", "four threads"), status
    assert wait_phase("holder", timeout=90)["phase"] == "Succeeded"

    uids = {
        pods_of(created["metadata"]["uid"])[0].spec.security_context.run_as_user
        for created in (holder, limited)
    }
    assert len(uids) == 2
    assert all(uid >= 100000 for uid in uids)
