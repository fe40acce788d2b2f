"""A pod the API server refuses for good fails the Execution at once, naming why."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client

from tests.support import kube

Apply = Callable[..., dict[str, Any]]
Wait = Callable[..., dict[str, Any]]
PodsOf = Callable[[str], list[Any]]


@pytest.mark.parametrize(
    ("template", "cause"),
    [
        ({"priorityClassName": "no-such-priority"}, "no-such-priority"),
        (
            {"tolerations": [{"key": "dedicated", "operator": "Exists", "value": "x"}]},
            "tolerations",
        ),
    ],
    ids=["missing-priority-class", "invalid-toleration"],
)
def test_a_pod_refused_for_good_fails_as_pod_rejected(
    apply_execution: Apply, wait_phase: Wait, pods_of: PodsOf, template: dict[str, Any], cause: str
) -> None:
    created = apply_execution(
        "refused", {"code": "result = 1", "podTemplate": template, "startDeadlineSeconds": 300}
    )
    status = wait_phase("refused", timeout=30)

    assert (status["phase"], status["reason"], status["code"]) == ("Failed", "PodRejected", 500)
    assert cause in status["message"]
    assert status["attempts"] == 1
    assert pods_of(created["metadata"]["uid"]) == []


def test_a_pod_refused_for_a_while_fails_at_the_start_deadline_naming_the_error(
    apply_execution: Apply,
    wait_phase: Wait,
    pods_of: PodsOf,
    core: client.CoreV1Api,
    namespace: str,
) -> None:
    # A full quota is retried (pods of others may finish), but only until the deadline.
    quota = {"metadata": {"name": "no-pods"}, "spec": {"hard": {"pods": "0"}}}
    core.create_namespaced_resource_quota(namespace, quota)
    kube.wait_until(
        lambda: core.read_namespaced_resource_quota("no-pods", namespace).status.hard or {},
        30,
        "the quota to be in force",
    )
    created = apply_execution("quota", {"code": "result = 1", "startDeadlineSeconds": 10})
    status = wait_phase("quota", timeout=90)

    assert (status["phase"], status["reason"]) == ("Failed", "StartDeadlineExceeded")
    assert "exceeded quota" in status["message"]
    assert "startDeadlineSeconds (10s)" in status["message"]
    assert status["attempts"] == 1
    assert pods_of(created["metadata"]["uid"]) == []
