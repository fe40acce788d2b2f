"""An Event keeps the time of its transition, however late it is posted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from execution_operator import kube
from kubernetes.client.exceptions import ApiException


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


class _Refusing:
    def __init__(self, status: int, body: str) -> None:
        self.error = ApiException(status=status, reason="refused")
        self.error.body = body

    def create_namespaced_event(self, namespace: str, event: dict[str, Any]) -> None:
        raise self.error


TERMINATING = (
    '{"kind":"Status","status":"Failure","reason":"Forbidden","details":'
    '{"causes":[{"reason":"NamespaceTerminating","field":"metadata.namespace"}]},"code":403}'
)


@pytest.mark.parametrize(
    ("status", "body"), [(403, TERMINATING), (404, '{"reason":"NotFound","code":404}')]
)
def test_an_event_for_a_namespace_being_deleted_is_dropped_quietly(
    monkeypatch: pytest.MonkeyPatch, status: int, body: str
) -> None:
    monkeypatch.setattr(kube, "_core", lambda: _Refusing(status, body))
    execution = {"metadata": {"name": "e", "namespace": "ns", "uid": "u"}}
    kube.post_event(execution, "Normal", "Running", "The code is running.")


def test_any_other_refusal_of_an_event_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kube, "_core", lambda: _Refusing(403, '{"reason":"Forbidden"}'))
    execution = {"metadata": {"name": "e", "namespace": "ns", "uid": "u"}}
    with pytest.raises(ApiException):
        kube.post_event(execution, "Normal", "Running", "The code is running.")
