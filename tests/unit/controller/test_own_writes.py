"""The event caused by the operator's own status write needs no reconcile."""

from __future__ import annotations

import kopf
from execution_operator import handlers, naming

from .conftest import Harness, deliver


def _version(harness: Harness, name: str = "hello") -> str:
    return str(harness.cluster.execution(name)["metadata"]["resourceVersion"])


def test_the_event_of_our_own_pending_write_is_skipped(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    harness.cluster.calls.clear()
    harness.controller.reconcile("ns", "hello", version=_version(harness))
    assert harness.cluster.calls == []  # not even a GET


def test_only_once_and_only_that_version(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    version = _version(harness)
    harness.controller.reconcile("ns", "hello", version=version)
    harness.cluster.calls.clear()
    harness.controller.reconcile("ns", "hello", version=version)  # e.g. a relist
    assert harness.cluster.calls == ["get_execution", "get_pod"]


def test_a_change_by_someone_else_is_reconciled(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    harness.cluster.apply("hello", cancel=True)
    pod = naming.execution_object_name(harness.cluster.execution("hello"), 1)
    harness.controller.reconcile("ns", "hello", version=_version(harness))
    assert (pod, 0) in harness.cluster.deleted_pods


def test_the_event_of_a_terminal_write_is_reconciled_for_its_ttl(harness: Harness) -> None:
    harness.cluster.apply("hello", ttlSecondsAfterFinished=5)
    harness.reconcile("hello")
    harness.cluster.finish(naming.execution_object_name(harness.cluster.execution("hello"), 1))
    harness.reconcile("hello")
    harness.wakeups.clear()
    harness.controller.reconcile("ns", "hello", version=_version(harness))
    assert harness.wakeup_in("hello") == 5
    assert len(harness.controller.steps) == 0


def test_the_handler_passes_the_events_resource_version(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    event = harness.cluster.execution("hello")
    harness.cluster.calls.clear()
    deliver(
        harness.memo(),
        handlers.execution_changed,
        type="MODIFIED",
        body=kopf.Body(event),
        name="hello",
        namespace="ns",
        uid=event["metadata"]["uid"],
    )
    assert harness.cluster.calls == []
