"""One fault test's view of the cluster: create Executions, wait for them, count what they made."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubernetes import client

from tests.faults import objects


@dataclass(frozen=True)
class Scene:
    """The test's namespace with the e2e helpers bound to it."""

    apply: Callable[..., dict[str, Any]]  # apply(name, spec, **metadata) -> created body
    wait: Callable[..., dict[str, Any]]  # wait(name, *phases, timeout=...) -> status
    get: Callable[[str], dict[str, Any]]
    custom: client.CustomObjectsApi
    core: client.CoreV1Api
    namespace: str

    def settled(self, expected: int, timeout: float) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """All `expected` Executions terminal, with at most one pod and ConfigMap per attempt."""
        items = objects.wait_all_terminal(self.custom, self.namespace, expected, timeout)
        pods, maps = objects.owned(self.core, self.namespace)
        return items, objects.one_pod_and_map_per_attempt(items, pods, maps)

    def pods_of(self, uid: str) -> list[Any]:
        selector = f"{objects.UID_LABEL}={uid}"
        return list(self.core.list_namespaced_pod(self.namespace, label_selector=selector).items)
