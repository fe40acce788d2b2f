"""Objects under an attempt's name that the Execution did not create are never used."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from execution_operator import models, naming
from execution_operator.settings import Settings
from execution_runner import protocol
from kubernetes import client

from tests.support import kube

Apply = Callable[..., dict[str, Any]]
Wait = Callable[..., dict[str, Any]]
PodsOf = Callable[[str], list[Any]]
# Past the inline limit: the payload goes in a ConfigMap, the object squatted on here.
PADDING = "#" * Settings().inline_payload_max_bytes + "\n"


def _squat_the_next_attempts_configmap(
    victim: dict[str, Any], pods_of: PodsOf, core: client.CoreV1Api, namespace: str
) -> str:
    """Another principal in the namespace predicts attempt 2's name and copies the labels;
    then attempt 1's pod goes (an infrastructure failure: retried)."""
    squatted = naming.execution_object_name(victim, 2)
    core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=squatted, labels=naming.owned_labels(victim, 2)),
            data={protocol.CODE_FILE: "result = 'hijacked'"},
        ),
    )
    (first,) = pods_of(victim["metadata"]["uid"])
    core.delete_namespaced_pod(first.metadata.name, namespace, grace_period_seconds=0)
    return squatted


def test_a_squatted_configmap_is_never_looked_at_for_a_payload_in_the_pod(
    apply_execution: Apply,
    wait_phase: Wait,
    pods_of: PodsOf,
    core: client.CoreV1Api,
    namespace: str,
) -> None:
    code = "import time\ntime.sleep(30)\nresult = 'victim'"
    victim = apply_execution("victim", {"code": code, "retries": 1, "timeoutSeconds": 120})
    wait_phase("victim", "Running", timeout=60)
    squatted = _squat_the_next_attempts_configmap(victim, pods_of, core, namespace)
    status = wait_phase("victim", timeout=120)
    assert (status["phase"], status["attempts"], status["result"]) == ("Succeeded", 2, "victim")
    assert status["podName"] == squatted


def test_a_squatted_configmap_for_the_next_attempt_never_runs(
    apply_execution: Apply,
    wait_phase: Wait,
    pods_of: PodsOf,
    core: client.CoreV1Api,
    namespace: str,
) -> None:
    victim = apply_execution(
        "victim",
        {"code": PADDING + "import time\ntime.sleep(30)\nresult = 'victim'", "retries": 1},
    )
    wait_phase("victim", "Running", timeout=60)
    squatted = _squat_the_next_attempts_configmap(victim, pods_of, core, namespace)
    status = wait_phase("victim", timeout=90)
    assert (status["phase"], status["reason"]) == ("Failed", "NameConflict"), status
    assert squatted in status["message"]
    assert status.get("result") != "hijacked"
    pods = pods_of(victim["metadata"]["uid"])
    assert [p.metadata.name for p in pods if p.metadata.name == squatted] == []
    kube.wait_until(
        lambda: (
            core.read_namespaced_config_map(squatted, namespace).data
            == {protocol.CODE_FILE: "result = 'hijacked'"}
        ),
        5,
        "the squatter's ConfigMap to be left as it was",
    )


def test_a_configmap_of_its_own_with_other_data_is_made_anew(
    apply_execution: Apply,
    wait_phase: Wait,
    core: client.CoreV1Api,
    custom: client.CustomObjectsApi,
    namespace: str,
) -> None:
    # Left by a crash or a stale decision: the Execution's own, but from an older spec.
    held = apply_execution("held", {"code": PADDING + "result = 'old'", "cancel": True})
    assert wait_phase("held", timeout=30)["phase"] == "Cancelled"
    name = naming.execution_object_name(held, 1)
    core.create_namespaced_config_map(
        namespace,
        {
            "metadata": {
                "name": name,
                "labels": naming.owned_labels(held, 1),
                "ownerReferences": [naming.owner_reference(held)],
            },
            "immutable": True,
            "data": {protocol.CODE_FILE: "result = 'stale'"},
        },
    )
    custom.patch_namespaced_custom_object(
        models.GROUP,
        models.VERSION,
        namespace,
        models.PLURAL,
        "held",
        {"spec": {"cancel": False, "code": PADDING + "result = 'new'"}},
    )
    status = wait_phase("held", "Succeeded", "Failed", timeout=60)
    assert (status["phase"], status["podName"], status["result"]) == ("Succeeded", name, "new")
    assert core.read_namespaced_config_map(name, namespace).data[protocol.CODE_FILE] == (
        PADDING + "result = 'new'"
    )
