"""Executions kept in Git, on the real cluster: re-apply, changed spec, TTL, Argo CD health.

Manifests go through `kubectl apply` (client-side, as Argo CD applies) and
`kubectl apply --server-side` (as Flux applies); the Argo CD health script runs
with real Lua interpreters on the status objects the operator wrote.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from execution_operator import models
from kubernetes import client

from tests.support import kube
from tests.support.argocd_health import available_interpreters, run_health

Apply = Callable[..., dict[str, Any]]
Get = Callable[[str], dict[str, Any]]
Wait = Callable[..., dict[str, Any]]
PodsOf = Callable[[str], list[Any]]

DOUBLE = "result = {'double': data['x'] * 2}"
SLEEP_60 = "import time\ntime.sleep(60)\nresult = 'too late'"
# The fields a later apply must leave alone when nothing changed.
RUN_FIELDS = ("phase", "reason", "result", "attempts", "podName", "startTime", "completionTime")


def _apply(namespace: str, name: str, spec: dict[str, Any], *flags: str) -> str:
    """`kubectl apply` of an Execution manifest, as a GitOps controller applies it."""
    manifest = {
        "apiVersion": models.API_VERSION,
        "kind": models.KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }
    done = subprocess.run(
        ["kubectl", "--kubeconfig", kube.kubeconfig_path(), "apply", *flags, "-f", "-"],
        input=yaml.safe_dump(manifest),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _finished_generation(get_execution: Get, name: str, generation: int) -> dict[str, Any]:
    """The body once the run of `generation` has finished."""

    def done() -> dict[str, Any] | None:
        body = get_execution(name)
        status = body.get("status") or {}
        finished = status.get("phase") in ("Succeeded", "Failed", "Cancelled")
        return body if finished and status.get("observedGeneration") == generation else None

    return kube.wait_until(done, 60, f"Execution {name} to finish generation {generation}")


def _barrier(apply_execution: Apply, wait_phase: Wait, name: str) -> None:
    """Another Execution run to its end: the operator has handled the events before it."""
    apply_execution(name, {"code": "result = 0"})
    assert wait_phase(name, timeout=60)["phase"] == "Succeeded"


@pytest.mark.parametrize("flags", [(), ("--server-side",)], ids=["client-side", "server-side"])
def test_reapplying_an_unchanged_manifest_is_a_no_op_and_a_changed_one_a_new_run(
    flags: tuple[str, ...],
    apply_execution: Apply,
    get_execution: Get,
    wait_phase: Wait,
    pods_of: PodsOf,
    namespace: str,
) -> None:
    spec = {"code": DOUBLE, "input": {"x": 1}}
    _apply(namespace, "synced", spec, *flags)
    first = _finished_generation(get_execution, "synced", 1)
    uid = first["metadata"]["uid"]
    assert (first["status"]["phase"], first["status"]["result"]) == ("Succeeded", {"double": 2})

    # A sync loop applies the same manifest again and again; Argo CD also labels what it tracks.
    for _ in range(2):
        out = _apply(namespace, "synced", spec, *flags)
        assert "unchanged" in out or "serverside-applied" in out, out
    subprocess.run(
        ["kubectl", "--kubeconfig", kube.kubeconfig_path(), "-n", namespace, "label",
         "execution/synced", "app.kubernetes.io/instance=demo"],
        check=True, capture_output=True,
    )  # fmt: skip
    _barrier(apply_execution, wait_phase, "barrier")

    again = get_execution("synced")
    assert again["metadata"]["generation"] == 1
    assert {k: again["status"].get(k) for k in RUN_FIELDS} == {
        k: first["status"].get(k) for k in RUN_FIELDS
    }
    assert len(pods_of(uid)) == 1

    # A changed manifest in Git is a new run of the same object.
    _apply(namespace, "synced", {**spec, "input": {"x": 5}}, *flags)
    second = _finished_generation(get_execution, "synced", 2)
    status = second["status"]
    assert (status["phase"], status["result"], status["attempts"]) == (
        "Succeeded",
        {"double": 10},
        2,
    )
    assert {c["observedGeneration"] for c in status["conditions"]} == {2}
    assert len(pods_of(uid)) == 2


def test_a_ttl_deleted_execution_runs_again_when_git_reapplies_it(
    get_execution: Get, custom: client.CustomObjectsApi, namespace: str
) -> None:
    """Why Git-managed Executions leave ttlSecondsAfterFinished unset (docs/gitops.md)."""
    spec = {"code": DOUBLE, "input": {"x": 1}, "ttlSecondsAfterFinished": 3}
    _apply(namespace, "expiring", spec)
    first_uid = _finished_generation(get_execution, "expiring", 1)["metadata"]["uid"]

    def deleted() -> bool:
        listed = custom.list_namespaced_custom_object(
            models.GROUP, models.VERSION, namespace, models.PLURAL
        )
        return all(item["metadata"]["uid"] != first_uid for item in listed["items"])

    kube.wait_until(deleted, 30, "the TTL to delete the Execution")
    _apply(namespace, "expiring", spec)  # what a self-healing sync does with a missing object
    rerun = _finished_generation(get_execution, "expiring", 1)
    assert rerun["metadata"]["uid"] != first_uid
    assert rerun["status"]["phase"] == "Succeeded"  # the code ran a second time


# --- Argo CD health on real status objects ----------------------------------------------


def _health_everywhere(obj: dict[str, Any]) -> set[tuple[str, str]]:
    """(status, message) from every installed interpreter; they must agree."""
    interpreters = available_interpreters()
    if not interpreters:
        pytest.skip("no Lua interpreter: install the Debian package lua5.4")
    return {(h.status, h.message) for h in (run_health(obj, lua) for lua in interpreters)}


def _health(obj: dict[str, Any]) -> tuple[str, str]:
    results = _health_everywhere(obj)
    assert len(results) == 1, results
    return results.pop()


def _kstatus(obj: dict[str, Any]) -> str:
    """What kstatus (Flux, kpt) concludes from the generation and the conditions."""
    status = obj.get("status") or {}
    if status.get("observedGeneration") != obj["metadata"]["generation"]:
        return "InProgress"
    true = {c["type"] for c in status.get("conditions") or [] if c["status"] == "True"}
    if "Reconciling" in true:
        return "InProgress"
    return "Failed" if "Stalled" in true else "Current"


def test_argocd_health_of_real_executions(
    apply_execution: Apply,
    get_execution: Get,
    wait_phase: Wait,
    custom: client.CustomObjectsApi,
    namespace: str,
) -> None:
    apply_execution("ok", {"code": DOUBLE, "input": {"x": 2}})
    apply_execution("broken", {"code": "raise ValueError('bad input')"})
    apply_execution("slow", {"code": SLEEP_60, "timeoutSeconds": 1})
    created = apply_execution("busy", {"code": SLEEP_60, "timeoutSeconds": 120})
    assert "status" not in created  # the status subresource: created without one
    assert _health(created) == ("Progressing", "Waiting for the operator to start the Execution.")

    running = wait_phase("busy", "Running", timeout=60)
    assert running["phase"] == "Running"
    busy = get_execution("busy")
    status, message = _health(busy)
    assert (status, _kstatus(busy)) == ("Progressing", "InProgress")
    assert message.startswith("Running: ")

    expected = {
        "ok": ("Healthy", "Completed", "Current"),
        "broken": ("Degraded", "UserError", "Failed"),
        "slow": ("Degraded", "Timeout", "Failed"),
    }
    for name, (health, reason, kstatus) in expected.items():
        wait_phase(name, timeout=60)
        body = get_execution(name)
        assert body["status"]["reason"] == reason, body["status"]
        status, message = _health(body)
        assert (status, _kstatus(body)) == (health, kstatus), body["status"]
        assert message == f"{reason}: {body['status']['message']}"

    # A spec change pushed from Git: until the new run is done the Execution is not healthy.
    changed: dict[str, Any] = custom.patch_namespaced_custom_object(
        models.GROUP, models.VERSION, namespace, models.PLURAL, "ok", {"spec": {"input": {"x": 3}}}
    )
    assert _health(changed)[0] == "Progressing"
    rerun = _finished_generation(get_execution, "ok", changed["metadata"]["generation"])
    assert rerun["status"]["result"] == {"double": 6}
    assert _health(rerun)[0] == "Healthy"

    custom.patch_namespaced_custom_object(
        models.GROUP, models.VERSION, namespace, models.PLURAL, "busy", {"spec": {"cancel": True}}
    )
    wait_phase("busy", "Cancelled", timeout=30)
    cancelled = get_execution("busy")
    assert (_health(cancelled)[0], _kstatus(cancelled)) == ("Suspended", "Failed")
