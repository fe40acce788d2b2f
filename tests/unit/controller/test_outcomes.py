"""From the pod to a terminal status: results, retries, cancel, deadlines and TTL."""

from __future__ import annotations

from execution_operator import metrics, naming, outcomes
from execution_operator.decisions import PodHint
from execution_runner.protocol import DEFAULT_KILL_GRACE_SECONDS, Reason

from .conftest import Harness


def _started(harness: Harness, name: str = "hello", **spec: object) -> str:
    """An Execution whose attempt 1 pod exists; the pod's name."""
    harness.cluster.apply(name, **spec)
    harness.reconcile(name)
    return naming.execution_object_name(harness.cluster.execution(name), 1)


def test_running_then_succeeded_with_the_verified_result(harness: Harness) -> None:
    pod = _started(harness)
    harness.cluster.run(pod)
    assert harness.reconcile("hello")["phase"] == "Running"
    harness.cluster.finish(pod, result={"answer": 42})
    final = harness.reconcile("hello")
    assert (final["phase"], final["reason"], final["code"]) == ("Succeeded", "Completed", 200)
    assert final["result"] == {"answer": 42}
    assert [e[1] for e in harness.cluster.events] == ["Pending", "Running", "Completed"]


def test_a_result_that_fails_its_checksum_is_a_runner_error(harness: Harness) -> None:
    pod = _started(harness)
    harness.cluster.finish(pod, result=[1, 2])
    harness.cluster.logs[pod] = harness.cluster.logs[pod].replace("[1,2]", "[1,3]")
    final = harness.reconcile("hello")
    assert final["reason"] == Reason.RUNNER_ERROR
    assert "result" not in final


def test_a_deleted_pod_is_retried_while_retries_are_left(harness: Harness) -> None:
    pod = _started(harness, retries=1)
    harness.cluster.run(pod)
    harness.reconcile("hello")
    harness.cluster.pods.clear()
    status_ = harness.reconcile("hello", PodHint(pod, None))
    assert (status_["phase"], status_["attempts"]) == ("Pending", 2)
    second = naming.execution_object_name(harness.cluster.execution("hello"), 2)
    assert ("ns", second) in harness.cluster.pods
    assert ("Warning", Reason.POD_FAILED) in [e[:2] for e in harness.cluster.events]
    # No retries left: the next loss is final.
    harness.cluster.pods.clear()
    final = harness.reconcile("hello", PodHint(second, None))
    assert (final["phase"], final["reason"], final["attempts"]) == ("Failed", "PodFailed", 2)


def test_a_user_outcome_is_never_retried(harness: Harness) -> None:
    pod = _started(harness, retries=3)
    harness.cluster.finish(pod, reason=Reason.TIMEOUT, result=None)
    final = harness.reconcile("hello")
    assert (final["reason"], final["attempts"]) == (Reason.TIMEOUT, 1)
    assert len(harness.cluster.pods) == 1


def test_cancel_stops_a_running_pod_gracefully_then_reports_cancelled(harness: Harness) -> None:
    pod = _started(harness)
    harness.cluster.run(pod)
    harness.reconcile("hello")
    harness.cluster.apply("hello", cancel=True)
    harness.reconcile("hello")
    assert harness.cluster.deleted_pods == [(pod, None)]  # the kubelet's grace: SIGTERM
    final = harness.reconcile("hello", PodHint(pod, None))
    assert (final["phase"], final["reason"]) == ("Cancelled", Reason.CANCELLED)


def test_the_runners_cancelled_report_observes_the_cancelling_generation(
    harness: Harness,
) -> None:
    pod = _started(harness)
    harness.cluster.run(pod)
    harness.reconcile("hello")
    harness.cluster.apply("hello", cancel=True)
    # The runner's report of the stop is the step's first news of the cancel (a restart).
    finished = harness.cluster.finish(pod, reason=Reason.CANCELLED, result=None)
    final = harness.reconcile("hello", PodHint(pod, finished))
    assert (final["phase"], final["reason"]) == ("Cancelled", Reason.CANCELLED)
    # Acted on in the same write: GitOps health never sees Cancelled for an older generation.
    generation = harness.cluster.execution("hello")["metadata"]["generation"]
    assert generation == 2
    assert final["observedGeneration"] == generation
    assert {c["observedGeneration"] for c in final["conditions"]} == {generation}


def test_cancel_of_a_pod_that_never_started_deletes_it_at_once(harness: Harness) -> None:
    pod = _started(harness)
    harness.cluster.apply("hello", cancel=True)
    harness.reconcile("hello")
    assert harness.cluster.deleted_pods == [(pod, 0)]


def test_cancel_before_the_first_step_creates_nothing(harness: Harness) -> None:
    harness.cluster.apply("hello", cancel=True)
    final = harness.reconcile("hello")
    assert final["phase"] == "Cancelled"
    assert harness.cluster.pods == {}


def test_the_start_deadline_fails_a_pod_that_never_started(harness: Harness) -> None:
    pod = _started(harness, startDeadlineSeconds=60)
    assert harness.wakeup_in("hello") == 60
    harness.clock.advance(59)
    assert harness.reconcile("hello")["phase"] == "Pending"
    harness.clock.advance(1)
    final = harness.reconcile("hello")
    assert (final["phase"], final["reason"]) == ("Failed", Reason.START_DEADLINE_EXCEEDED)
    assert "60s" in str(final["message"])
    assert harness.cluster.deleted_pods == [(pod, 0)]


def test_a_pod_running_long_past_timeout_seconds_is_node_lost(harness: Harness) -> None:
    pod = _started(harness, timeoutSeconds=10, retries=1)
    harness.cluster.run(pod)
    harness.reconcile("hello")
    limit = 10 + DEFAULT_KILL_GRACE_SECONDS + outcomes.NODE_LOST_MARGIN_SECONDS
    assert limit in harness.asked_in("hello")
    harness.clock.advance(limit)
    after = harness.reconcile("hello")
    assert (pod, 0) in harness.cluster.deleted_pods
    assert after["attempts"] == 2  # retried: the node, not the code, failed
    assert ("Warning", Reason.NODE_LOST) in [e[:2] for e in harness.cluster.events]


def test_ttl_deletes_the_execution_once_due(harness: Harness) -> None:
    pod = _started(harness, ttlSecondsAfterFinished=30)
    harness.cluster.finish(pod)
    harness.reconcile("hello")
    assert harness.reconcile("hello")["phase"] == "Succeeded"
    assert harness.wakeup_in("hello") == 30
    assert harness.cluster.deleted_executions == []
    harness.clock.advance(30)
    harness.reconcile("hello")
    assert harness.cluster.deleted_executions == ["hello"]


def test_a_finished_execution_without_ttl_is_left_alone(harness: Harness) -> None:
    pod = _started(harness)
    harness.cluster.finish(pod)
    harness.reconcile("hello")
    harness.wakeups.clear()
    harness.clock.advance(10**6)
    harness.reconcile("hello")
    assert harness.cluster.deleted_executions == []
    assert harness.wakeups == {}


def test_an_execution_counts_as_active_only_until_it_is_terminal(harness: Harness) -> None:
    pod = _started(harness)
    uid = harness.cluster.execution("hello")["metadata"]["uid"]
    assert uid in metrics._active
    harness.cluster.finish(pod)
    harness.reconcile("hello")
    assert uid not in metrics._active  # freed at the terminal write, not at deletion
    harness.reconcile("hello")
    assert uid not in metrics._active
