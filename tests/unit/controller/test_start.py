"""Starting a run: objects created once, adopted after a restart, never someone else's."""

from __future__ import annotations

from execution_operator import naming
from execution_operator.controller import Controller
from execution_operator.settings import load_settings
from execution_runner import protocol
from execution_runner.protocol import Reason

from .conftest import Harness


def _pod_name(harness: Harness, name: str, attempt: int = 1) -> str:
    return naming.execution_object_name(harness.cluster.execution(name), attempt)


def test_a_new_execution_records_attempt_1_then_creates_its_pod_carrying_the_payload(
    harness: Harness,
) -> None:
    harness.cluster.apply("hello")
    status = harness.reconcile("hello")
    pod = _pod_name(harness, "hello")
    assert status["phase"] == "Pending"
    assert status["attempts"] == 1
    assert status["podName"] == pod
    assert status["runFirstAttempt"] == 1
    assert set(harness.cluster.pods) == {("ns", pod)}
    # A small payload travels in the pod's annotations: no ConfigMap is made.
    assert harness.cluster.configmaps == {}
    assert "create_if_absent" not in harness.cluster.calls
    annotations = harness.cluster.pods[("ns", pod)]["metadata"]["annotations"]
    assert annotations[naming.PAYLOAD_ANNOTATION_PREFIX + protocol.CODE_FILE] == "result = 1"
    # The attempt is on record before its objects exist (a restart in between finds it).
    calls = harness.cluster.calls
    assert calls.index("patch_execution_status") < calls.index("create_or_adopt")
    # The start deadline is watched even if no pod event ever comes.
    assert harness.wakeup_in("hello") <= 300


def test_an_unchanged_execution_is_a_no_op(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    before = harness.cluster.execution("hello")
    harness.cluster.calls.clear()
    harness.reconcile("hello")
    assert harness.cluster.execution("hello") == before  # no write, same resourceVersion
    assert "create_or_adopt" not in harness.cluster.calls
    assert "patch_execution_status" not in harness.cluster.calls


def test_after_a_restart_between_recording_and_creating_the_objects_are_created_once(
    harness: Harness,
) -> None:
    harness.cluster.apply("hello")
    harness.killed_at("create_or_adopt")
    assert harness.cluster.status("hello")["attempts"] == 1
    assert harness.cluster.pods == {}
    # A new operator process: fresh controller, same cluster.
    fresh = Controller(load_settings({}), harness.cluster, harness.schedule, clock=harness.clock)
    fresh.reconcile("ns", "hello")
    fresh.reconcile("ns", "hello")
    assert len(harness.cluster.pods) == 1
    assert harness.cluster.status("hello")["attempts"] == 1


def test_a_pod_someone_else_created_under_the_name_is_refused(harness: Harness) -> None:
    harness.cluster.apply("hello")
    pod = _pod_name(harness, "hello")
    harness.cluster.put_foreign("Pod", pod)
    status = harness.reconcile("hello")
    assert (status["phase"], status["reason"]) == ("Failed", Reason.NAME_CONFLICT)
    assert pod in str(status["message"])
    assert harness.cluster.deleted_pods == []  # never touched


def test_an_invalid_spec_fails_without_objects(harness: Harness) -> None:
    harness.cluster.apply("bad", timeoutSeconds=0)
    status = harness.reconcile("bad")
    assert (status["phase"], status["reason"]) == ("Failed", Reason.INVALID_SPEC)
    assert "timeoutSeconds" in str(status["message"])
    assert harness.cluster.pods == {}
    assert harness.cluster.configmaps == {}


def test_a_missing_code_configmap_fails_naming_it(harness: Harness) -> None:
    harness.cluster.apply(
        "from-cm", code=None, codeFrom={"configMapKeyRef": {"name": "src", "key": "code.py"}}
    )
    status = harness.reconcile("from-cm")
    assert status["reason"] == Reason.POD_FAILED
    assert "'src'" in str(status["message"])
    assert harness.cluster.pods == {}


def test_a_key_missing_from_the_input_configmap_is_an_invalid_spec(harness: Harness) -> None:
    harness.cluster.configmaps["ns", "data"] = {"data": {"a.json": "1", "b.json": "2"}}
    harness.cluster.apply(
        "from-cm", inputFrom={"configMapKeyRef": {"name": "data", "key": "nope.json"}}
    )
    status = harness.reconcile("from-cm")
    assert (status["phase"], status["reason"]) == ("Failed", Reason.INVALID_SPEC)
    message = str(status["message"])
    assert "spec.inputFrom.configMapKeyRef.key" in message
    assert "'nope.json'" in message
    assert "a.json, b.json" in message
    assert harness.cluster.pods == {}


def test_a_spec_change_supersedes_the_running_attempt_with_a_new_run(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    first = _pod_name(harness, "hello", 1)
    harness.cluster.run(first)
    harness.reconcile("hello")
    harness.cluster.apply("hello", code="result = 2")  # generation 2
    status = harness.reconcile("hello")
    assert (first, None) in harness.cluster.deleted_pods
    assert status["attempts"] == 2
    assert status["runFirstAttempt"] == 2
    assert status["observedGeneration"] == 2
    assert ("ns", _pod_name(harness, "hello", 2)) in harness.cluster.pods


def test_a_finished_execution_whose_spec_changes_runs_again(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    harness.cluster.finish(_pod_name(harness, "hello"))
    assert harness.reconcile("hello")["phase"] == "Succeeded"
    harness.cluster.apply("hello", code="result = 2")
    status = harness.reconcile("hello")
    assert (status["phase"], status["attempts"]) == ("Pending", 2)
    assert "result" not in status  # the previous run's outcome is cleared


def test_setting_cancel_is_not_a_new_run(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    harness.cluster.apply("hello", code="result = 1", cancel=True)
    harness.reconcile("hello")
    assert harness.cluster.status("hello")["attempts"] == 1
