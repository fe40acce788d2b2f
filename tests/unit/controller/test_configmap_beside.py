"""A payload too large for the pod's annotations goes in a ConfigMap: it is made while
the attempt is recorded, the pod only after both."""

from __future__ import annotations

import pytest
from execution_operator import api_errors, naming
from execution_operator.controller import Controller
from execution_operator.settings import load_settings
from execution_runner import protocol

from .conftest import CONFIGMAP_PAYLOADS, Harness, Inline
from .fake import api_error


@pytest.fixture
def harness() -> Harness:
    return Harness(env=CONFIGMAP_PAYLOADS)


def _name(harness: Harness, name: str = "hello", attempt: int = 1) -> str:
    return naming.execution_object_name(harness.cluster.execution(name), attempt)


def _code(harness: Harness, name: str = "hello") -> str:
    return str(harness.cluster.configmaps[("ns", _name(harness, name))]["data"]["code.py"])


def _restart(harness: Harness) -> Controller:
    settings = load_settings(harness.env)
    return Controller(
        settings, harness.cluster, harness.schedule, clock=harness.clock, beside=Inline()
    )


def test_the_pod_comes_after_the_record_and_the_configmap(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    calls = harness.cluster.calls
    assert calls.index("create_if_absent") < calls.index("create_or_adopt")
    assert calls.index("patch_execution_status") < calls.index("create_or_adopt")
    assert calls.count("create_or_adopt") == 1  # the pod; the ConfigMap was made beside
    assert len(harness.cluster.configmaps) == len(harness.cluster.pods) == 1


def test_a_configmap_left_from_an_older_spec_is_made_anew_before_the_pod(
    harness: Harness,
) -> None:
    harness.cluster.apply("hello", code="result = 'old'")
    harness.killed_at("patch_execution_status")
    harness.cluster.apply("hello", code="result = 'new'")  # changed while no operator ran
    _restart(harness).reconcile("ns", "hello")
    assert _code(harness) == "result = 'new'"
    assert harness.cluster.remade == [_name(harness)]
    assert len(harness.cluster.pods) == 1
    assert harness.cluster.status("hello")["attempts"] == 1


def test_a_conflict_on_a_stale_body_never_mounts_its_configmap(harness: Harness) -> None:
    stale = harness.cluster.apply("hello", code="result = 'old'")
    harness.cluster.apply("hello", code="result = 'new'")  # the event of this is still to come
    harness.controller.reconcile("ns", "hello", body=stale)
    assert _code(harness) == "result = 'new'"
    assert len(harness.cluster.pods) == 1
    # The stale step's ConfigMap was made, its record refused, the fresh step remade it.
    assert harness.cluster.remade == [_name(harness)]
    assert harness.cluster.status("hello")["observedGeneration"] == 2


def test_its_own_configmap_left_by_a_crash_is_adopted_not_duplicated(harness: Harness) -> None:
    harness.cluster.apply("hello")
    # Killed after creating the ConfigMap (beside the record), before the pod.
    harness.killed_at("create_or_adopt")
    assert len(harness.cluster.configmaps) == 1
    assert harness.cluster.pods == {}
    harness.reconcile("hello")
    assert len(harness.cluster.configmaps) == 1  # the 409 found it ours
    assert len(harness.cluster.pods) == 1
    assert harness.cluster.status("hello")["phase"] == "Pending"


def test_a_foreign_configmap_under_the_name_is_never_mounted(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.cluster.put_foreign("ConfigMap", _name(harness))
    status = harness.reconcile("hello")
    assert status["reason"] == protocol.Reason.NAME_CONFLICT
    assert harness.cluster.pods == {}


def test_a_failed_early_creation_is_made_again_after_the_record(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.cluster.failures["create_if_absent"].append(api_error(503, "busy"))
    assert harness.reconcile("hello")["phase"] == "Pending"
    assert len(harness.cluster.configmaps) == len(harness.cluster.pods) == 1


def test_a_refused_configmap_fails_the_execution_without_a_pod(harness: Harness) -> None:
    harness.cluster.apply("hello")
    refusal = api_errors.RefusedError("ConfigMap", "c", "exceeded quota: configmaps")
    harness.cluster.failures["create_if_absent"].append(refusal)
    harness.cluster.failures["create_or_adopt"].append(refusal)
    status = harness.reconcile("hello")
    assert status["reason"] == protocol.Reason.POD_REJECTED
    assert "exceeded quota" in str(status["message"])
    assert harness.cluster.pods == {}


def test_code_from_a_configmap_is_checked_before_anything_is_made(harness: Harness) -> None:
    harness.cluster.configmaps[("ns", "scripts")] = {"data": {"a.py": "result = 2"}}
    harness.cluster.apply("hello", codeFrom={"configMapKeyRef": {"name": "scripts", "key": "a.py"}})
    del harness.cluster.executions[("ns", "hello")]["spec"]["code"]
    assert harness.reconcile("hello")["phase"] == "Pending"
    calls = harness.cluster.calls
    assert "create_if_absent" not in calls
    assert calls.index("configmap_keys") < calls.index("create_or_adopt")
    assert len(harness.cluster.pods) == 1


def test_with_the_shared_thread_pool(harness: Harness) -> None:
    controller = Controller(
        load_settings(harness.env), harness.cluster, harness.schedule, clock=harness.clock
    )
    for i in range(5):
        harness.cluster.apply(f"e{i}")
        controller.reconcile("ns", f"e{i}")
    assert len(harness.cluster.configmaps) == len(harness.cluster.pods) == 5


@pytest.mark.parametrize("changed", [False, True], ids=["same-spec", "spec-changed"])
@pytest.mark.parametrize(
    "killed_at", ["create_if_absent", "patch_execution_status", "create_or_adopt"]
)
def test_a_kill_at_any_call_of_a_start_gives_one_pod_running_the_current_spec(
    harness: Harness, killed_at: str, changed: bool
) -> None:
    harness.cluster.apply("hello", code="result = 'old'")
    harness.killed_at(killed_at)
    code = "result = 'new'" if changed else "result = 'old'"
    if changed:
        harness.cluster.apply("hello", code=code)
    fresh = _restart(harness)
    for _ in range(3):
        fresh.reconcile("ns", "hello")
    status = harness.cluster.status("hello")
    attempt = int(status["attempts"])
    names = {key[1] for key in harness.cluster.pods}
    assert names == {_name(harness, attempt=attempt)}  # one pod, of the recorded attempt
    assert status["podName"] in names
    cm = harness.cluster.configmaps[("ns", status["podName"])]
    assert cm["data"]["code.py"] == code
    assert harness.cluster.created.count(("Pod", status["podName"])) == 1  # never run twice
    if not changed:
        assert harness.cluster.remade == []  # the same data: adopted as it was
