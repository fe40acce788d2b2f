"""What the controller needs from Kubernetes, and from the clock, as interfaces.

`Cluster` is exactly the set of API calls the controller makes; `KubeCluster`
makes them with the real client (`kube`), and the unit tests use a small
in-memory fake. `Clock` gives the wall time (deadlines come from API
timestamps) and the monotonic time (delays and durations).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from . import kube

Body = dict[str, Any]


class Cluster(Protocol):
    """The Kubernetes API calls of the controller (blocking)."""

    def get_execution(self, namespace: str, name: str) -> Body | None: ...

    def patch_execution_status(self, execution: Body, status: dict[str, Any]) -> Body:
        """Merge-patch the status; 409 if the Execution changed since it was read."""
        ...

    def delete_execution(self, execution: Body) -> None: ...

    def get_pod(self, namespace: str, name: str) -> Body | None: ...

    def list_executions(self, namespaces: tuple[str, ...]) -> Iterator[Body]:
        """Every Execution of `namespaces` (all when empty), page by page."""
        ...

    def configmap_keys(self, namespace: str, name: str) -> frozenset[str] | None:
        """The keys a ConfigMap holds; None when it does not exist."""
        ...

    def create_if_absent(self, body: Body) -> Body | None:
        """The object created, None if the name is taken; else RefusedError."""
        ...

    def create_or_adopt(self, body: Body) -> Body | None:
        """The object created, None if ours existed; else NotOursError or RefusedError."""
        ...

    def delete_pod(self, namespace: str, name: str, grace_seconds: int | None = None) -> None: ...

    def read_log_tail(self, namespace: str, name: str, container: str, max_bytes: int) -> str: ...

    def post_event(
        self,
        execution: Mapping[str, Any],
        kind: str,
        reason: str,
        message: str,
        at: datetime | None = None,
    ) -> None:
        """An Event on the Execution, stamped `at` (default: now)."""
        ...


class KubeCluster:
    """`Cluster` through the shared Kubernetes client."""

    def get_execution(self, namespace: str, name: str) -> Body | None:
        return kube.get_execution(namespace, name)

    def patch_execution_status(self, execution: Body, status: dict[str, Any]) -> Body:
        return kube.patch_execution_status(execution, status)

    def delete_execution(self, execution: Body) -> None:
        kube.delete_execution(execution)

    def get_pod(self, namespace: str, name: str) -> Body | None:
        return kube.get_pod(namespace, name)

    def list_executions(self, namespaces: tuple[str, ...]) -> Iterator[Body]:
        return kube.list_executions(namespaces)

    def configmap_keys(self, namespace: str, name: str) -> frozenset[str] | None:
        return kube.configmap_keys(namespace, name)

    def create_if_absent(self, body: Body) -> Body | None:
        return kube.create_if_absent(body)

    def create_or_adopt(self, body: Body) -> Body | None:
        return kube.create_or_adopt(body)

    def delete_pod(self, namespace: str, name: str, grace_seconds: int | None = None) -> None:
        kube.delete_pod(namespace, name, grace_seconds)

    def read_log_tail(self, namespace: str, name: str, container: str, max_bytes: int) -> str:
        return kube.read_log_tail(namespace, name, container, max_bytes)

    def post_event(
        self,
        execution: Mapping[str, Any],
        kind: str,
        reason: str,
        message: str,
        at: datetime | None = None,
    ) -> None:
        kube.post_event(execution, kind, reason, message, at)


class Clock(Protocol):
    def now(self) -> datetime:
        """The wall-clock time, timezone-aware."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never steps (for delays and durations)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


SYSTEM_CLOCK: Clock = SystemClock()
