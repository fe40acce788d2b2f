"""Reconciling from the watch event's body: no read, unless the body may be stale."""

from __future__ import annotations

from execution_operator import naming
from execution_operator.controller import Controller
from execution_operator.decisions import PodHint
from execution_operator.echoes import Echoes, older
from execution_operator.settings import load_settings

from .conftest import Harness
from .fake import FakeClock


def _pod_name(harness: Harness, name: str = "hello") -> str:
    return naming.execution_object_name(harness.cluster.execution(name), 1)


def _started(harness: Harness) -> str:
    """hello with its attempt started, the calls so far forgotten; its pod's name."""
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    harness.cluster.calls.clear()
    return _pod_name(harness)


def test_a_new_execution_is_started_from_its_event_without_a_read(harness: Harness) -> None:
    added = harness.cluster.apply("hello")
    harness.controller.reconcile("ns", "hello", body=added)
    assert "get_execution" not in harness.cluster.calls
    assert harness.cluster.status("hello")["phase"] == "Pending"
    assert len(harness.cluster.pods) == 1


def test_an_event_older_than_our_own_write_is_skipped(harness: Harness) -> None:
    added = harness.cluster.apply("hello")
    harness.reconcile("hello")  # e.g. a wake-up wrote Pending before the ADDED event ran
    harness.cluster.calls.clear()
    harness.controller.reconcile("ns", "hello", body=added)
    assert harness.cluster.calls == []  # the write was decided on a state as new
    assert len(harness.cluster.pods) == 1


def test_a_known_body_older_than_our_write_is_not_used(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    pod = _pod_name(harness)
    # What is known lags behind a write of ours (e.g. it was never seen).
    harness.controller.known.forget(("ns", "hello"))
    harness.controller.known.saw(harness.cluster.execution("hello") | {"status": {}})
    written = harness.cluster.execution("hello")
    harness.controller.echoes.wrote(
        ("Execution", "ns", "hello"), str(int(written["metadata"]["resourceVersion"]) + 1)
    )
    harness.cluster.calls.clear()
    harness.controller.reconcile("ns", "hello", PodHint(pod, harness.cluster.run(pod)))
    assert harness.cluster.calls[0] == "get_execution"
    assert harness.cluster.status("hello")["phase"] == "Running"


def test_an_older_event_leaves_our_write_awaited() -> None:
    echoes = Echoes(FakeClock())
    key = ("Execution", "ns", "hello")
    echoes.wrote(key, "12", skippable=True)
    assert echoes.event(key, "11")  # skipped: nothing the write had not seen
    assert echoes.ahead_of(key, "11")  # the liveness probe still waits for it
    assert not echoes.ahead_of(key, "12")
    assert echoes.event(key, "12")
    assert not echoes.ahead_of(key, "11")


def test_a_later_event_ends_the_wait_for_a_folded_one() -> None:
    echoes = Echoes(FakeClock())
    key = ("Execution", "ns", "hello")
    echoes.wrote(key, "12", skippable=True)
    assert not echoes.event(key, "15")  # not ours: reconciled
    assert len(echoes) == 0


def test_resource_versions_that_are_not_numbers_are_never_older() -> None:
    assert older("9", "10")
    assert not older("10", "10")
    assert not older("abc", "10")
    assert not older("9", "x9")


def test_objects_are_created_only_on_a_fresh_read(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.killed_at("create_or_adopt")
    # A new operator process gets the ADDED event of the recorded attempt, pod missing.
    fresh = Controller(load_settings({}), harness.cluster, harness.schedule, clock=harness.clock)
    harness.cluster.calls.clear()
    fresh.reconcile("ns", "hello", body=harness.cluster.execution("hello"))
    calls = harness.cluster.calls
    assert calls.index("get_execution") < calls.index("create_or_adopt")
    assert len(harness.cluster.pods) == 1
    assert harness.cluster.status("hello")["attempts"] == 1


def test_a_cancel_from_an_event_deletes_the_pod_after_a_fresh_read(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    pod = _pod_name(harness)
    cancelled = harness.cluster.apply("hello", cancel=True)
    harness.cluster.calls.clear()
    harness.controller.reconcile("ns", "hello", body=cancelled)
    calls = harness.cluster.calls
    assert calls.index("get_execution") < calls.index("delete_pod")
    assert (pod, 0) in harness.cluster.deleted_pods


def test_the_first_event_of_the_pod_we_created_is_skipped(harness: Harness) -> None:
    pod = _started(harness)
    harness.controller.reconcile("ns", "hello", PodHint(pod, harness.cluster.pod(pod)))
    assert harness.cluster.calls == []
    # Its next change is reconciled.
    harness.controller.reconcile("ns", "hello", PodHint(pod, harness.cluster.run(pod)))
    assert harness.cluster.status("hello")["phase"] == "Running"


def test_a_terminal_write_comes_back_with_its_ttl_and_no_read(harness: Harness) -> None:
    harness.cluster.apply("hello", ttlSecondsAfterFinished=5)
    harness.reconcile("hello")
    harness.cluster.finish(_pod_name(harness), inline=True)
    harness.reconcile("hello")
    harness.cluster.calls.clear()
    harness.controller.reconcile("ns", "hello", body=harness.cluster.execution("hello"))
    assert harness.cluster.calls == []
    assert harness.wakeup_in("hello") == 5


def test_a_pod_event_uses_the_newest_known_body_without_a_read(harness: Harness) -> None:
    pod = _started(harness)
    harness.controller.reconcile("ns", "hello", PodHint(pod, harness.cluster.run(pod)))
    harness.controller.reconcile(
        "ns", "hello", PodHint(pod, harness.cluster.finish(pod, inline=True))
    )
    assert "get_execution" not in harness.cluster.calls
    assert harness.cluster.status("hello")["phase"] == "Succeeded"
    assert len(harness.controller.known) == 0  # finished: nothing kept


def test_an_older_body_never_replaces_a_newer_one(harness: Harness) -> None:
    added = harness.cluster.apply("hello")
    harness.reconcile("hello")  # our Pending write: newer than the ADDED body
    harness.controller.known.saw(added)
    known = harness.controller.known.get(("ns", "hello"))
    assert known is not None
    assert (known.get("status") or {}).get("phase") == "Pending"


def test_bodies_are_kept_lean_and_forgotten_with_the_execution(harness: Harness) -> None:
    added = harness.cluster.apply("hello")
    added["metadata"]["managedFields"] = [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}]
    harness.controller.reconcile("ns", "hello", body=added)
    known = harness.controller.known.get(("ns", "hello"))
    assert known is not None
    assert "managedFields" not in known["metadata"]
    harness.controller.forget("ns", "hello", added["metadata"]["uid"])
    assert len(harness.controller.known) == 0


def test_a_cancel_seen_by_its_event_reaches_the_pod_events(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    pod = _pod_name(harness)
    cancelled = harness.cluster.apply("hello", cancel=True)
    harness.controller.known.saw(cancelled)  # the event came; its step had not run yet
    harness.controller.reconcile("ns", "hello", PodHint(pod, harness.cluster.run(pod)))
    # A deletion needs a fresh read: the step read the Execution, then stopped the pod.
    assert (pod, None) in harness.cluster.deleted_pods
