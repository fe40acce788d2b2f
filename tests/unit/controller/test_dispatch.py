"""The dispatcher's queue: what the events of an Execution leave to reconcile, in what order."""

from __future__ import annotations

import copy
from typing import Any

import kopf
from execution_operator import handlers, naming
from execution_operator.decisions import PodHint
from execution_operator.dispatch import Dispatcher

from .conftest import Harness, deliver

# What each reconcile was asked: (name, pod hint as (pod, resourceVersion or None), body's rv).
Call = tuple[str, tuple[str, str | None] | None, str | None]


def _version(body: dict[str, Any] | None) -> str | None:
    return None if body is None else body["metadata"].get("resourceVersion")


def recorded(harness: Harness, paused: bool = False) -> tuple[Dispatcher, list[Call]]:
    """A dispatcher (not started) around the harness's controller, and what it reconciled."""
    calls: list[Call] = []
    reconcile = harness.controller.reconcile

    def record(namespace: str, name: str, hint: PodHint | None = None, **kw: Any) -> None:
        pod = None if hint is None else (hint.name, _version(hint.body))
        calls.append((name, pod, _version(kw.get("body"))))
        reconcile(namespace, name, hint, **kw)

    harness.controller.reconcile = record  # type: ignore[method-assign]
    cancelled: list[object] = []
    dispatcher = Dispatcher(
        harness.controller, cancelled.append, threads=0, paused=lambda: paused, clock=harness.clock
    )
    return dispatcher, calls


def _pod_body(harness: Harness, version: str) -> dict[str, Any]:
    pod = naming.execution_object_name(harness.cluster.execution("hello"), 1)
    body = copy.deepcopy(harness.cluster.pod(pod))
    body["metadata"]["resourceVersion"] = version
    return body


def test_only_the_newest_body_of_an_execution_is_reconciled(harness: Harness) -> None:
    dispatcher, calls = recorded(harness)
    old = copy.deepcopy(harness.cluster.apply("hello"))
    new = copy.deepcopy(old)
    new["metadata"]["resourceVersion"] = str(int(old["metadata"]["resourceVersion"]) + 1)
    new["metadata"]["managedFields"] = [{"manager": "kubectl"}]
    seen: list[dict[str, Any]] = []
    harness.controller.known.saw = seen.append  # type: ignore[method-assign]
    dispatcher.execution("ns", "hello", old)
    dispatcher.execution("ns", "hello", new)
    assert len(dispatcher) == 1
    dispatcher.work_off()
    assert calls == [("hello", None, new["metadata"]["resourceVersion"])]
    assert "managedFields" not in seen[0]["metadata"]  # kept compact
    assert harness.cluster.created  # and acted on: the pod is created


def test_a_pods_newest_body_supersedes_the_older_ones(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    dispatcher, calls = recorded(harness)
    pod = naming.execution_object_name(harness.cluster.execution("hello"), 1)
    for version in ("101", "102", "103"):
        dispatcher.pod("ns", "hello", pod, _pod_body(harness, version))
    dispatcher.work_off()
    assert calls == [("hello", (pod, "103"), None)]


def test_a_pods_deletion_is_never_overtaken(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    dispatcher, calls = recorded(harness)
    pod = naming.execution_object_name(harness.cluster.execution("hello"), 1)
    dispatcher.pod("ns", "hello", pod, _pod_body(harness, "101"))
    dispatcher.pod("ns", "hello", pod, None)  # the older body is superseded by it
    dispatcher.work_off()
    assert calls == [("hello", (pod, None), None)]
    # A pod of that name anew after a deletion: the deletion first, then the newest body.
    calls.clear()
    dispatcher.pod("ns", "hello", pod, None)
    dispatcher.pod("ns", "hello", pod, _pod_body(harness, "201"))
    dispatcher.pod("ns", "hello", pod, _pod_body(harness, "202"))
    dispatcher.work_off()
    assert calls == [("hello", (pod, None), None), ("hello", (pod, "202"), None)]


def test_keys_are_taken_in_order_each_once(harness: Harness) -> None:
    dispatcher, calls = recorded(harness)
    bodies = {name: harness.cluster.apply(name) for name in ("a", "b", "c")}
    for name in ("a", "b", "a", "c", "a", "b"):
        dispatcher.execution("ns", name, bodies[name])
    dispatcher.work_off()
    assert [name for name, _, _ in calls] == ["a", "b", "c"]


def test_an_event_during_its_keys_reconcile_waits_behind_the_others(harness: Harness) -> None:
    dispatcher, calls = recorded(harness)
    bodies = {name: harness.cluster.apply(name) for name in ("a", "b")}
    record = harness.controller.reconcile
    first = [True]

    def meanwhile(namespace: str, name: str, hint: PodHint | None = None, **kw: Any) -> None:
        if first.pop() if first else False:  # while a runs: another event of a, and one of b
            dispatcher.execution("ns", "a", bodies["a"])
            dispatcher.execution("ns", "b", bodies["b"])
        record(namespace, name, hint, **kw)

    harness.controller.reconcile = meanwhile  # type: ignore[method-assign]
    dispatcher.execution("ns", "a", bodies["a"])
    dispatcher.work_off()
    assert [name for name, _, _ in calls] == ["a", "b", "a"]


def test_the_queue_keeps_nothing_once_drained(harness: Harness) -> None:
    dispatcher, _ = recorded(harness)
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    pod = naming.execution_object_name(harness.cluster.execution("hello"), 1)
    for n in range(50):
        dispatcher.execution("ns", "hello", harness.cluster.execution("hello"))
        dispatcher.pod("ns", "hello", pod, _pod_body(harness, str(100 + n)))
    assert (len(dispatcher), dispatcher.held()) == (1, 2)  # one key, in the FIFO once
    harness.clock.advance(7)
    assert dispatcher.oldest() == 7
    dispatcher.work_off()
    assert (dispatcher.held(), len(dispatcher), dispatcher.oldest()) == (0, 0, None)


def test_a_paused_replica_acts_on_no_queued_event(harness: Harness) -> None:
    dispatcher, calls = recorded(harness, paused=True)
    dispatcher.execution("ns", "hello", harness.cluster.apply("hello"))
    dispatcher.work_off()
    assert calls == []
    assert harness.cluster.created == []
    assert dispatcher.held() == 0


def test_a_deletion_drops_what_was_queued_and_forgets(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    memo = harness.memo()
    runtime: handlers.Runtime = memo[handlers.RUNTIME]
    runtime.wakeups.at(("ns", "hello"), harness.clock.now().timestamp() + 60)
    execution = harness.cluster.execution("hello")
    pod = naming.execution_object_name(execution, 1)
    runtime.dispatcher.execution("ns", "hello", execution)
    runtime.dispatcher.pod("ns", "hello", pod, _pod_body(harness, "101"))
    harness.cluster.calls.clear()
    event = {"type": "DELETED", "name": "hello", "namespace": "ns"}
    deliver(memo, handlers.execution_changed, body=kopf.Body(execution), uid="u", **event)
    assert harness.cluster.calls == []  # nothing queued before the deletion was reconciled
    assert len(runtime.wakeups) == 0
    assert len(harness.controller.known) == 0


def test_the_pod_handler_queues_for_the_owning_execution(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    memo = harness.memo()
    runtime: handlers.Runtime = memo[handlers.RUNTIME]
    pod = naming.execution_object_name(harness.cluster.execution("hello"), 1)
    running = harness.cluster.run(pod)
    event = {"name": pod, "namespace": "ns", "body": kopf.Body(running)}
    deliver(memo, handlers.pod_changed, type="MODIFIED", **event)
    assert harness.cluster.status("hello")["phase"] == "Running"
    assert runtime.dispatcher.held() == 0


def test_a_wake_up_is_one_reconcile_of_the_execution_as_it_is_now(harness: Harness) -> None:
    harness.cluster.apply("hello")
    dispatcher, calls = recorded(harness)
    dispatcher.wake("ns", "hello")
    dispatcher.wake("ns", "hello")
    dispatcher.work_off()
    assert calls == [("hello", None, None)]  # no body: read afresh
    assert harness.cluster.created


def test_a_wake_up_rides_on_an_event_queued_for_the_same_execution(harness: Harness) -> None:
    body = copy.deepcopy(harness.cluster.apply("hello"))
    dispatcher, calls = recorded(harness)
    dispatcher.wake("ns", "hello")
    dispatcher.execution("ns", "hello", body)
    dispatcher.work_off()
    assert calls == [("hello", None, body["metadata"]["resourceVersion"])]
    harness.reconcile("hello")
    pod = naming.execution_object_name(harness.cluster.execution("hello"), 1)
    calls.clear()
    dispatcher.wake("ns", "hello")
    dispatcher.pod("ns", "hello", pod, _pod_body(harness, "201"))
    dispatcher.work_off()
    assert calls == [("hello", (pod, "201"), None)]


def test_a_wake_up_of_a_deleted_execution_is_dropped_with_it(harness: Harness) -> None:
    harness.cluster.apply("hello")
    dispatcher, calls = recorded(harness)
    dispatcher.wake("ns", "hello")
    dispatcher.deleted("ns", "hello", "uid-1")
    dispatcher.work_off()
    assert calls == []
