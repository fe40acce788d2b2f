"""What a namespace holds: Executions, their pods and ConfigMaps, and checks across them."""

from __future__ import annotations

from collections import Counter
from typing import Any

from execution_operator import models
from kubernetes import client

from tests.support import kube

UID_LABEL = "execution-operator.io/uid"
ATTEMPT_LABEL = "execution-operator.io/attempt"
TERMINAL = ("Succeeded", "Failed", "Cancelled")


def executions(custom: client.CustomObjectsApi, namespace: str) -> list[dict[str, Any]]:
    body: dict[str, Any] = custom.list_namespaced_custom_object(
        models.GROUP, models.VERSION, namespace, models.PLURAL
    )
    return list(body["items"])


def owned(core: client.CoreV1Api, namespace: str) -> tuple[list[Any], list[Any]]:
    """The operator's pods and ConfigMaps in the namespace."""
    pods = core.list_namespaced_pod(namespace, label_selector=UID_LABEL).items
    maps = core.list_namespaced_config_map(namespace, label_selector=UID_LABEL).items
    return list(pods), list(maps)


def wait_all_terminal(
    custom: client.CustomObjectsApi, namespace: str, expected: int, timeout: float
) -> list[dict[str, Any]]:
    def done() -> list[dict[str, Any]] | None:
        items = executions(custom, namespace)
        finished = [e for e in items if (e.get("status") or {}).get("phase") in TERMINAL]
        return items if len(items) == expected and len(finished) == expected else None

    return kube.wait_until(done, timeout, f"{expected} Executions terminal", interval=1)


def one_pod_and_map_per_attempt(
    items: list[dict[str, Any]], pods: list[Any], maps: list[Any]
) -> dict[str, int]:
    """Asserts at most one pod and one ConfigMap per recorded attempt, none else."""
    attempts = {e["metadata"]["uid"]: int(e["status"].get("attempts") or 0) for e in items}
    wanted = Counter({(uid, n): 1 for uid, count in attempts.items() for n in range(1, count + 1)})
    pod_keys = Counter(
        (p.metadata.labels[UID_LABEL], int(p.metadata.labels[ATTEMPT_LABEL])) for p in pods
    )
    map_keys = Counter(
        (m.metadata.labels[UID_LABEL], int(m.metadata.labels[ATTEMPT_LABEL])) for m in maps
    )
    duplicated = {k: v for k, v in pod_keys.items() if v > 1}
    assert not duplicated, f"more than one pod for an attempt: {duplicated}"
    orphans = set(pod_keys) - set(wanted)
    assert not orphans, f"pods of no recorded attempt: {orphans}"
    map_orphans = set(map_keys) - set(wanted)
    assert not map_orphans, f"ConfigMaps of no recorded attempt: {map_orphans}"
    return {"pods": len(pods), "configMaps": len(maps), "attempts": sum(attempts.values())}
