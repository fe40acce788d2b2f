"""An Event keeps the time of its transition, however late it is posted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from execution_operator import kube


class _Core:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def create_namespaced_event(self, namespace: str, event: dict[str, Any]) -> None:
        self.events.append(event)


def test_an_event_is_stamped_with_the_time_given(monkeypatch: pytest.MonkeyPatch) -> None:
    core = _Core()
    monkeypatch.setattr(kube, "_core", lambda: core)
    execution = {"metadata": {"name": "e", "namespace": "ns", "uid": "u"}}
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    kube.post_event(execution, "Normal", "Running", "The code is running.", at)
    (event,) = core.events
    assert event["firstTimestamp"] == event["lastTimestamp"] == "2026-01-02T03:04:05Z"
    assert (event["reason"], event["involvedObject"]["uid"]) == ("Running", "u")
