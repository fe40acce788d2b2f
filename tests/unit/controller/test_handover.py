"""An event that comes while a step of its Execution runs never holds a worker waiting."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from execution_operator import naming
from execution_operator.decisions import PodHint

from tests.support.waiting import wait_until

from .conftest import Harness
from .fake import api_error


def _pod(harness: Harness) -> str:
    return naming.execution_object_name(harness.cluster.execution("hello"), 1)


def test_an_event_during_a_step_is_handed_to_its_thread(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    pod = _pod(harness)
    release = threading.Event()
    returned = threading.Event()
    running = harness.cluster.run(pod)

    def event_while_the_step_runs() -> None:
        harness.controller.reconcile("ns", "hello", PodHint(pod, running))
        returned.set()

    def slow_read(namespace: str, name: str) -> Any:
        threading.Thread(target=event_while_the_step_runs).start()
        assert returned.wait(5), "the event's worker waited for the running step"
        assert harness.controller.steps.waiting(("ns", "hello")) == 1
        release.set()
        return read(namespace, name)

    read = harness.cluster.get_pod
    harness.cluster.get_pod = slow_read  # type: ignore[method-assign]
    harness.controller.reconcile("ns", "hello")  # a wake-up: reads the pod
    harness.cluster.get_pod = read  # type: ignore[method-assign]
    assert release.is_set()
    # The running thread took the handed event after its own step.
    assert harness.cluster.status("hello")["phase"] == "Running"
    assert len(harness.controller.steps) == 0


def test_a_failing_step_does_not_drop_the_events_handed_after_it(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    pod = _pod(harness)
    running = harness.cluster.run(pod)
    handed = threading.Thread(
        target=harness.controller.reconcile, args=("ns", "hello", PodHint(pod, running))
    )

    def failing_read(namespace: str, name: str) -> Any:
        handed.start()
        wait_until(lambda: harness.controller.steps.waiting(("ns", "hello")) == 1, 5, "handed")
        raise api_error(500, "etcd timed out")

    read = harness.cluster.get_pod
    harness.cluster.get_pod = failing_read  # type: ignore[method-assign]
    with pytest.raises(Exception, match="500"):
        harness.controller.reconcile("ns", "hello")  # the wake-up's own step fails
    harness.cluster.get_pod = read  # type: ignore[method-assign]
    handed.join(5)
    assert harness.cluster.status("hello")["phase"] == "Running"  # the handed one ran


def test_a_dying_thread_lets_its_execution_go(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.killed_at("patch_execution_status")
    assert len(harness.controller.steps) == 0
    assert harness.reconcile("hello")["phase"] == "Pending"  # taken, not handed to nobody
