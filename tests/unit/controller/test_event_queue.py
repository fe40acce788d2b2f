"""Queued Events keep only what they post, not the Execution they are about."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import pytest
from execution_operator import handlers
from execution_operator.controller import Controller
from execution_operator.settings import load_settings
from kubernetes.client.exceptions import ApiException

from .conftest import Harness


def _cells(call: Callable[[], None]) -> list[Any]:
    return [cell.cell_contents for cell in call.__closure__ or ()]


def test_a_queued_event_holds_the_subject_only(harness: Harness) -> None:
    queued: list[Callable[[], None]] = []
    posted: list[tuple[Mapping[str, Any], str, str, datetime]] = []

    def post(subject: Mapping[str, Any], kind: str, reason: str, _: str, at: datetime) -> None:
        posted.append((subject, kind, reason, at))

    ctl = Controller(
        load_settings({}),
        harness.cluster,
        harness.schedule,
        clock=harness.clock,
        post_event=handlers.queued_poster(queued.append, post),
    )
    execution = harness.cluster.apply("hello", input={"big": "x" * 100_000})
    ctl.reconcile("ns", "hello")
    assert queued, "the start of a run posts an Event"
    for call in queued:
        for held in _cells(call):
            assert "spec" not in str(held)  # no body, no input kept while queued
        call()
    meta = execution["metadata"]
    subject, kind, _, _ = posted[0]
    assert subject == {"metadata": {key: meta[key] for key in handlers.EVENT_SUBJECT_KEYS}}
    assert kind == "Normal"


def _refusal(status: int, message: str) -> ApiException:
    exc = ApiException(status=status, reason="Forbidden")
    exc.body = json.dumps({"kind": "Status", "message": message})
    return exc


def test_events_for_a_namespace_going_away_are_dropped_without_a_call() -> None:
    now = {"t": 0.0}
    calls: list[str] = []
    terminating = {"a"}

    def post(subject: Mapping[str, Any], *_: Any) -> None:
        namespace = subject["metadata"]["namespace"]
        calls.append(namespace)
        if namespace in terminating:
            raise _refusal(
                403,
                f"events is forbidden: unable to create new content in namespace {namespace} "
                "because it is being terminated",
            )

    queued: list[Callable[[], None]] = []
    post_event = handlers.queued_poster(queued.append, post, lambda: now["t"])
    for namespace in ("a", "a", "b", "a"):
        post_event({"metadata": {"namespace": namespace, "name": "x"}}, "Normal", "R", "m")
    for call in queued:
        call()  # no raise: the refusal is expected
    assert calls == ["a", "b"]  # one call found "a" going; the others for it were dropped
    now["t"] += handlers.GONE_NAMESPACE_SECONDS  # a namespace of that name may be back
    terminating.clear()
    post_event({"metadata": {"namespace": "a", "name": "x"}}, "Normal", "R", "m")
    queued[-1]()
    assert calls == ["a", "b", "a"]


def test_other_refusals_still_fail_loudly() -> None:
    def post(*_: Any) -> None:
        raise _refusal(403, 'events is forbidden: User "x" cannot create resource "events"')

    queued: list[Callable[[], None]] = []
    handlers.queued_poster(queued.append, post)({"metadata": {"namespace": "a"}}, "N", "R", "m")
    with pytest.raises(ApiException):
        queued[0]()
