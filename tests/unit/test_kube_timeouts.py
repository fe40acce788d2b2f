"""Every API call of the operator has a timeout unless it names its own."""

from typing import Any

from execution_operator import kube
from kubernetes import client


def test_calls_without_a_timeout_get_the_default(monkeypatch: Any) -> None:
    seen: list[Any] = []

    def record(self: Any, *args: Any, **kwargs: Any) -> None:
        seen.append(kwargs.get("_request_timeout"))

    monkeypatch.setattr(client.ApiClient, "call_api", record)
    api = kube._BoundedApiClient(client.Configuration())
    api.call_api("/api/v1/pods", "GET")
    api.call_api("/api/v1/pods", "GET", _request_timeout=3)
    assert seen == [kube.REQUEST_TIMEOUT, 3]


def test_the_connection_pool_has_room_for_every_calling_thread() -> None:
    # urllib3's default of 10 made 16 workers discard connections and redo TLS handshakes.
    assert kube.configuration().connection_pool_maxsize >= kube.WORKERS + 2
