"""Queued Events keep only what they post, not the Execution they are about."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from execution_operator import handlers
from execution_operator.controller import Controller
from execution_operator.settings import load_settings

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
