"""The periodic relist wakes Executions that no watch event brought."""

from __future__ import annotations

from execution_operator import naming
from execution_operator.relist import Relister

from .conftest import Harness


def _relister(harness: Harness, paused: bool = False) -> Relister:
    return Relister(
        lambda: harness.cluster.list_executions(()),
        harness.schedule,
        clock=harness.clock,
        paused=lambda: paused,
    )


def test_an_execution_no_event_brought_is_started_by_the_relist(harness: Harness) -> None:
    harness.cluster.apply("unseen")  # created while the watch was silent: no reconcile
    assert _relister(harness).run_once() == 1
    assert list(harness.wakeups) == [("ns", "unseen")]
    status = harness.reconcile("unseen")  # what the wake-up thread then does
    assert status["phase"] == "Pending"
    assert len(harness.cluster.pods) == 1


def test_finished_executions_are_left_alone_until_their_spec_changes(harness: Harness) -> None:
    harness.cluster.apply("done")
    harness.reconcile("done")
    harness.cluster.executions["ns", "done"]["status"]["phase"] = "Succeeded"
    assert _relister(harness).run_once() == 0
    harness.cluster.apply("done", code="result = 2")  # a new generation: a new run is due
    assert _relister(harness).run_once() == 1


def test_a_paused_replica_does_not_relist(harness: Harness) -> None:
    harness.cluster.apply("unseen")
    assert _relister(harness, paused=True).run_once() == 0
    assert harness.wakeups == {}


def test_an_unfinished_execution_is_woken_only_for_its_deadlines(harness: Harness) -> None:
    # The relist is the net for a missed event: no per-Execution periodic re-check, which
    # at 5,000 pending Executions was 80 wake-ups and 160 reads a second.
    harness.cluster.apply("hello", startDeadlineSeconds=120, timeoutSeconds=30)
    harness.reconcile("hello")
    assert harness.asked_in("hello") == {120}
    pod = naming.execution_object_name(harness.cluster.execution("hello"), 1)
    harness.asks.clear()
    harness.cluster.run(pod)
    assert harness.reconcile("hello")["phase"] == "Running"
    (running,) = harness.asked_in("hello")  # the running deadline, past timeoutSeconds
    assert running > 30
