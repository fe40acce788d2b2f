"""The liveness probes fail while a step, the wake-up thread or the watches are stuck."""

from __future__ import annotations

import threading
from typing import Any

import kopf
import pytest
from execution_operator import handlers, naming
from execution_operator.decisions import PodHint

from tests.support.waiting import wait_until

from .conftest import Harness


def test_a_step_stuck_longer_than_the_bound_fails_liveness(harness: Harness) -> None:
    harness.cluster.apply("hello")
    memo = harness.memo()
    verdicts: list[str] = []

    def hang() -> None:
        verdicts.append(handlers.steps_alive(memo=memo))
        harness.clock.advance(handlers.STEP_STUCK_SECONDS + 1)
        with pytest.raises(kopf.PermanentError, match="running for"):
            handlers.steps_alive(memo=memo)
        verdicts.append("failed")

    harness.cluster.during["create_or_adopt"] = hang
    harness.reconcile("hello")
    assert verdicts == ["ok", "failed"]
    assert handlers.steps_alive(memo=memo) == "ok"


def test_probes_pass_before_startup() -> None:
    assert handlers.steps_alive(memo=kopf.Memo()) == "ok"
    assert handlers.wakeups_alive(memo=kopf.Memo()) == "ok"


def test_writes_the_watches_never_bring_back_fail_liveness(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")  # wrote Pending, created the pod
    memo = harness.memo()
    harness.clock.advance(handlers.WATCH_STUCK_SECONDS + 1)
    harness.reconcile("hello")  # a wake-up is not an event: still waiting
    with pytest.raises(kopf.PermanentError, match="watches"):
        handlers.watches_alive(memo=memo)
    memo[handlers.RUNTIME].paused = lambda: True  # a paused replica does not watch
    assert handlers.watches_alive(memo=memo) == "ok"


def test_the_events_of_our_writes_clear_the_watch_check(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    execution = harness.cluster.execution("hello")
    pod = naming.execution_object_name(execution, 1)
    assert len(harness.controller.echoes) == 2  # the Pending write and the pod
    harness.controller.reconcile("ns", "hello", version=execution["metadata"]["resourceVersion"])
    harness.controller.reconcile("ns", "hello", PodHint(pod, harness.cluster.pod(pod)))
    assert len(harness.controller.echoes) == 0
    harness.clock.advance(handlers.WATCH_STUCK_SECONDS + 1)
    assert handlers.watches_alive(memo=harness.memo()) == "ok"


def test_the_watch_probe_says_how_many_writes_await_their_events(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    harness.clock.advance(3)
    assert handlers.watches_alive(memo=harness.memo()) == "2 writes awaiting, oldest 3s"


def test_a_write_whose_event_beats_its_response_is_not_awaited(harness: Harness) -> None:
    """The watch can deliver a write's event before the writer has noted the write."""
    harness.cluster.apply("hello")
    patch = harness.cluster.patch_execution_status
    events: list[threading.Thread] = []

    def patch_then_deliver_its_event(execution: Any, status: Any) -> Any:
        written = patch(execution, status)
        version = written["metadata"]["resourceVersion"]
        event = threading.Thread(
            target=harness.controller.reconcile, args=("ns", "hello"), kwargs={"version": version}
        )
        event.start()
        events.append(event)
        # The event is noted and its reconcile waits for this step's lock.
        wait_until(
            lambda: harness.controller.steps.waiting(("ns", "hello")) == 1, 10, "a waiting step"
        )
        return written

    harness.cluster.patch_execution_status = patch_then_deliver_its_event  # type: ignore[method-assign]
    harness.reconcile("hello")
    for event in events:
        event.join(5)
    harness.cluster.patch_execution_status = patch  # type: ignore[method-assign]
    pod = naming.execution_object_name(harness.cluster.execution("hello"), 1)
    harness.controller.reconcile("ns", "hello", PodHint(pod, harness.cluster.pod(pod)))
    assert len(harness.controller.echoes) == 0
    harness.clock.advance(handlers.WATCH_STUCK_SECONDS + 1)
    assert handlers.watches_alive(memo=harness.memo()) == "ok"
