"""From pod to status: phases, reasons, codes, messages, results, metrics, conditions."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from execution_operator import outcomes, results, status
from execution_operator.podview import PodView, parse_time
from execution_operator.validation import parse_spec
from execution_runner import protocol

UID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
CREATED = "2026-01-01T00:00:00Z"
NOW = datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC)


def _execution(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "hello", "namespace": "ns", "uid": UID, "generation": 3},
        "spec": {"code": "result = 1", **spec},
    }


def _pod(phase: str, state: dict[str, Any] | None = None, **status_fields: Any) -> dict[str, Any]:
    container = {"name": "runner", "state": state or {}}
    return {
        "metadata": {
            "name": "exe-hello-0f1e2d3c-1",
            "creationTimestamp": CREATED,
            "annotations": {"execution-operator.io/generation": "2"},
        },
        "spec": {"containers": [{"name": "runner", "image": "runner:1"}]},
        "status": {"phase": phase, "containerStatuses": [container], **status_fields},
    }


def _terminated(message: dict[str, Any] | None, exit_code: int = 0, **more: Any) -> dict[str, Any]:
    state: dict[str, Any] = {
        "exitCode": exit_code,
        "startedAt": "2026-01-01T00:00:02Z",
        "finishedAt": "2026-01-01T00:00:05Z",
        **more,
    }
    if message is not None:
        state["message"] = json.dumps(message)
    return {"terminated": state}


def _summary(reason: str, **more: Any) -> dict[str, Any]:
    return {
        "code": protocol.code_for(reason),
        "reason": reason,
        "message": f"{reason} happened.",
        "metrics": {"executionMs": 12, "peakRssBytes": 1000, "cpuUserSeconds": 0.01},
        "logs": {"records": 3, "bytes": 30, "batches": 1, "failedBatches": 0, "dropped": 0},
        **more,
    }


def _classify(pod: dict[str, Any] | None, now: datetime = NOW, **spec: Any) -> outcomes.Outcome:
    return outcomes.classify(parse_spec(_execution(**spec)), _view(pod), now)


def _view(pod: dict[str, Any] | None) -> PodView | None:
    return PodView.of(pod) if pod is not None else None


def _update(
    pod: dict[str, Any] | None, result: results.ResultRead | None = None
) -> status.StatusUpdate:
    execution = _execution()
    return status.status_for_pod(
        execution, parse_spec(execution), _view(pod), attempt=1, now=NOW, result=result
    )


# --- pending and running ---


def test_a_new_pod_is_pending_and_a_started_one_running() -> None:
    pending = _classify(_pod("Pending", {"waiting": {"reason": "ContainerCreating"}}))
    assert (pending.phase, pending.reason, pending.terminal) == ("Pending", None, False)
    running = _classify(_pod("Running", {"running": {"startedAt": "2026-01-01T00:00:02Z"}}))
    assert running.phase == "Running"


def test_a_container_being_created_says_no_more_than_a_pod_just_made() -> None:
    # Each new message is a status write: the normal way to a start does not make one.
    made = _update(_pod("Pending"))
    creating = _update(_pod("Pending", {"waiting": {"reason": "ContainerCreating"}}))
    assert creating.patch["message"] == made.patch["message"]
    assert creating.patch["message"] == "Waiting for pod exe-hello-0f1e2d3c-1 to start."


def test_unschedulable_pod_says_why_while_pending() -> None:
    pod = _pod(
        "Pending",
        conditions=[{"type": "PodScheduled", "status": "False", "message": "0/1 nodes fit"}],
    )
    assert "not scheduled: 0/1 nodes fit" in _classify(pod).message


def test_start_deadline_fails_a_pod_that_never_started() -> None:
    outcome = _classify(_pod("Pending"), startDeadlineSeconds=5)
    assert (outcome.phase, outcome.reason, outcome.retryable) == (
        "Failed",
        "StartDeadlineExceeded",
        True,
    )
    assert "startDeadlineSeconds (5s)" in outcome.message


def test_missing_secret_fails_fast_naming_it() -> None:
    waiting = {"reason": "CreateContainerConfigError", "message": 'secret "api-creds" not found'}
    outcome = _classify(_pod("Pending", {"waiting": waiting}))
    assert (outcome.phase, outcome.reason, outcome.retryable) == ("Failed", "PodFailed", False)
    assert "Secret 'api-creds' does not exist" in outcome.message


def test_image_pull_errors_wait_for_the_start_deadline_then_name_the_image() -> None:
    for reason in ("ErrImagePull", "ImagePullBackOff", "InvalidImageName"):
        pod = _pod("Pending", {"waiting": {"reason": reason, "message": "nope"}})
        waiting = _classify(pod, startDeadlineSeconds=3600)
        assert (waiting.phase, waiting.terminal) == ("Pending", False)
        assert reason in waiting.message
        outcome = _classify(pod, startDeadlineSeconds=5)
        assert (outcome.reason, outcome.retryable) == ("StartDeadlineExceeded", True)
        assert "runner:1" in outcome.message


def test_a_pod_running_long_past_its_timeout_is_lost_with_its_node() -> None:
    pod = _pod("Running", {"running": {"startedAt": CREATED}})
    later = NOW + timedelta(seconds=200)
    lost = _classify(pod, later, timeoutSeconds=1)
    assert (lost.phase, lost.reason, lost.retryable) == ("Failed", "NodeLost", True)
    assert _classify(pod, later, timeoutSeconds=3600).phase == "Running"
    deadline = outcomes.running_deadline(parse_spec(_execution(timeoutSeconds=30)), PodView.of(pod))
    assert deadline is not None
    assert deadline - parse_time(CREATED) == timedelta(
        seconds=30 + protocol.DEFAULT_KILL_GRACE_SECONDS + outcomes.NODE_LOST_MARGIN_SECONDS
    )


# --- terminated with a runner report ---


def test_runner_report_gives_reason_and_message() -> None:
    for reason in ("UserError", "Timeout", "MemoryLimitExceeded", "ResultTooLarge"):
        outcome = _classify(_pod("Failed", _terminated(_summary(reason), 1)))
        assert (outcome.phase, outcome.reason, outcome.message) == (
            "Failed",
            reason,
            f"{reason} happened.",
        )
        assert not outcome.retryable


def test_runner_cancelled_is_cancelled_only_when_asked() -> None:
    pod = _pod("Failed", _terminated(_summary("Cancelled"), 2))
    assert _classify(pod, cancel=True).phase == "Cancelled"
    outside = _classify(pod)
    assert (outside.reason, outside.retryable) == ("PodFailed", True)


def test_a_report_without_a_message_gets_a_helpful_one() -> None:
    summary = _summary("Timeout")
    del summary["message"]
    outcome = _classify(_pod("Failed", _terminated(summary, 2)), timeoutSeconds=7)
    assert "timeoutSeconds (7s)" in outcome.message


# --- terminated without a report ---


def test_oom_killed_container() -> None:
    outcome = _classify(_pod("Failed", _terminated(None, 137, reason="OOMKilled")))
    assert (outcome.reason, outcome.retryable) == ("OOMKilled", False)


def test_active_deadline_is_timeout_after_start_else_start_deadline() -> None:
    started = _classify(_pod("Failed", _terminated(None, 137), reason="DeadlineExceeded"))
    assert started.reason == "Timeout"
    never = _classify(_pod("Failed", {}, reason="DeadlineExceeded"))
    assert (never.reason, never.retryable) == ("StartDeadlineExceeded", True)


def test_evicted_and_deleted_pods_are_retryable_pod_failures() -> None:
    evicted = _classify(_pod("Failed", {}, reason="Evicted", message="low on memory"))
    assert (evicted.reason, evicted.retryable) == ("PodFailed", True)
    assert "low on memory" in evicted.message
    gone = _classify(None)
    assert (gone.reason, gone.retryable) == ("PodFailed", True)
    assert _classify(None, cancel=True).phase == "Cancelled"


def test_runner_crash_is_a_runner_error_and_a_signal_a_pod_failure() -> None:
    crashed = _classify(_pod("Failed", _terminated(None, 3)))
    assert (crashed.reason, crashed.retryable) == ("RunnerError", False)
    assert "kubectl logs exe-hello-0f1e2d3c-1" in crashed.message
    killed = _classify(_pod("Failed", _terminated(None, 143)))
    assert (killed.reason, killed.retryable) == ("PodFailed", True)


# --- results ---


def _completed_pod(value: Any) -> dict[str, Any]:
    summary = _summary(
        "Completed",
        resultSha256=protocol.result_sha256(value),
        startedAt="2026-01-01T00:00:03Z",
    )
    return _pod("Succeeded", _terminated(summary))


def test_read_result_finds_and_verifies_the_framed_line() -> None:
    pod = _completed_pod({"answer": 42})
    assert PodView.of(pod).has_result
    term = PodView.of(pod).termination
    log = "a log line\n" + protocol.frame_result({"answer": 42}) + "\n"
    assert results.read_result(log, term) == results.ResultRead(value={"answer": 42})
    assert results.read_result("no result here", term).problem
    tampered = protocol.frame_result({"answer": 41})
    assert "sha256" in (results.read_result(tampered, term).problem or "")


def test_read_result_carries_the_framed_error() -> None:
    error = {"type": "ValueError", "message": "bad", "traceback": "Traceback ..."}
    read = results.read_result(protocol.frame_result(None, error), None)
    assert read.error == error


def test_succeeded_status_has_result_code_metrics_and_conditions() -> None:
    pod = _completed_pod([1, 2])
    read = results.read_result(protocol.frame_result([1, 2]), PodView.of(pod).termination)
    update = _update(pod, read)
    patch = update.patch
    assert update.outcome.phase == "Succeeded"
    assert patch["phase"] == "Succeeded"
    assert (patch["reason"], patch["code"]) == ("Completed", 200)
    assert patch["result"] == [1, 2]
    assert patch["error"] is None
    assert patch["podName"] == "exe-hello-0f1e2d3c-1"
    assert patch["attempts"] == 1
    assert patch["observedGeneration"] == 3  # the Execution's, not the pod's older one
    assert patch["startTime"] == "2026-01-01T00:00:03Z"
    assert patch["completionTime"] == "2026-01-01T00:00:05Z"
    assert patch["metrics"] == {
        "executionMs": 12,
        "peakRssBytes": 1000,
        "cpuUserSeconds": 0.01,
        "startupMs": 3000,
    }
    assert patch["logs"]["records"] == 3
    conditions = {c["type"]: c for c in patch["conditions"]}
    assert conditions["Ready"]["status"] == "True"
    assert conditions["Reconciling"]["status"] == "False"
    assert conditions["Stalled"]["status"] == "False"


def test_completed_without_a_verified_result_is_a_runner_error() -> None:
    pod = _completed_pod(1)
    update = _update(pod, results.ResultRead(problem="missing"))
    assert (update.patch["reason"], update.patch["code"]) == ("RunnerError", 500)
    assert "missing" in update.patch["message"]
    assert update.patch["result"] is None


def test_user_error_status_has_code_400_and_the_error() -> None:
    error = {"type": "ZeroDivisionError", "message": "division by zero", "traceback": "T"}
    pod = _pod("Failed", _terminated(_summary("UserError", error=error), 1))
    patch = _update(pod).patch
    assert (patch["phase"], patch["reason"], patch["code"]) == ("Failed", "UserError", 400)
    assert patch["error"] == error
    stalled = next(c for c in patch["conditions"] if c["type"] == "Stalled")
    assert (stalled["status"], stalled["reason"]) == ("True", "UserError")


def test_system_failures_have_code_500() -> None:
    pod = _pod("Failed", _terminated(_summary("Timeout"), 2))
    assert _update(pod).patch["code"] == 500


# --- patches without a pod ---


def test_pending_status_clears_the_previous_attempts_outcome() -> None:
    patch = status.pending_status(_execution(), pod_name="p", attempt=2, now=NOW)
    assert patch["phase"] == "Pending"
    for field in ("reason", "code", "result", "error", "completionTime", "metrics", "logs"):
        assert patch[field] is None
    assert (patch["podName"], patch["attempts"], patch["observedGeneration"]) == ("p", 2, 3)


def test_invalid_spec_status_names_the_fields() -> None:
    outcome = outcomes.invalid_spec(["spec.code: set exactly one of spec.code and spec.codeFrom"])
    patch = status.terminal_status(_execution(), outcome, now=NOW)
    assert (patch["phase"], patch["reason"], patch["code"]) == ("Failed", "InvalidSpec", 500)
    assert "spec.code: set exactly one" in patch["message"]
    assert patch["completionTime"] == "2026-01-01T00:00:10Z"


def test_condition_transition_time_changes_only_with_status() -> None:
    earlier = "2025-12-31T23:00:00Z"
    execution = _execution()
    execution["status"] = {
        "conditions": [
            {"type": "Ready", "status": "False", "lastTransitionTime": earlier},
            {"type": "Reconciling", "status": "True", "lastTransitionTime": earlier},
        ]
    }
    running = outcomes.Outcome("Running", None, "running")
    conditions = {c["type"]: c for c in status.conditions_for(execution, running, 3, NOW)}
    assert conditions["Ready"]["lastTransitionTime"] == earlier
    assert conditions["Reconciling"]["lastTransitionTime"] == earlier
    assert conditions["Stalled"]["lastTransitionTime"] == "2026-01-01T00:00:10Z"
    assert conditions["Ready"]["observedGeneration"] == 3


@pytest.mark.parametrize(
    "separator", ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\r"]
)
def test_read_result_keeps_line_and_paragraph_separators_inside_the_result(separator: str) -> None:
    value = {"s": f"a{separator}b"}
    log = "a log line\n" + protocol.frame_result(value) + "\n"
    term = {protocol.TerminationKey.RESULT_SHA256: protocol.result_sha256(value)}
    assert results.read_result(log, term) == results.ResultRead(value=value)
