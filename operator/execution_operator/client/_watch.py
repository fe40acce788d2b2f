"""Waiting on one Execution with a watch that survives expiry (410 Gone → relist)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from .. import models
from .errors import ExecutionNotFound, WaitTimeout

Body = dict[str, Any]
# A watch request ends after this long at the latest; the loop then watches on.
WATCH_WINDOW_SECONDS: Final = 60
GONE: Final = 410
_watch_module: Any = watch  # untyped


@dataclass
class WatchStats:
    """What happened while waiting (the tests check that expiry was survived)."""

    relists: int = 0
    expired: int = 0


def wait_for(
    api: client.ApiClient,
    namespace: str,
    name: str,
    until: Callable[[Body], bool],
    timeout: float | None,
    *,
    on_change: Callable[[Body], None] | None = None,
    resource_version: str | None = None,
    stats: WatchStats | None = None,
) -> Body:
    """The Execution as soon as `until(body)` holds; WaitTimeout after `timeout` seconds."""
    custom = client.CustomObjectsApi(api)
    deadline = None if timeout is None else time.monotonic() + timeout
    stats = stats or WatchStats()
    version = resource_version
    while True:
        if version is None:  # (re)list: the current state and a fresh resourceVersion
            stats.relists += 1
            body, version = _list_one(custom, namespace, name)
            if on_change is not None:
                on_change(body)
            if until(body):
                return body
        remaining = _remaining(deadline, name)
        try:
            for event in _watch_module.Watch().stream(
                custom.list_namespaced_custom_object,
                models.GROUP,
                models.VERSION,
                namespace,
                models.PLURAL,
                field_selector=f"metadata.name={name}",
                resource_version=version,
                allow_watch_bookmarks=True,
                timeout_seconds=max(1, min(WATCH_WINDOW_SECONDS, int(remaining) + 1)),
            ):
                obj: Body = event["object"]
                version = obj.get("metadata", {}).get("resourceVersion", version)
                if event["type"] == "BOOKMARK":
                    continue
                if event["type"] == "DELETED":
                    raise ExecutionNotFound(f"Execution {namespace}/{name} was deleted")
                if on_change is not None:
                    on_change(obj)
                if until(obj):
                    return obj
                _remaining(deadline, name)
        except ApiException as exc:
            if exc.status != GONE:
                raise
            stats.expired += 1
            version = None


def _list_one(custom: Any, namespace: str, name: str) -> tuple[Body, str]:
    selector = f"metadata.name={name}"
    listed = custom.list_namespaced_custom_object(
        models.GROUP, models.VERSION, namespace, models.PLURAL, field_selector=selector
    )
    items = listed.get("items") or []
    if not items:
        raise ExecutionNotFound(f"Execution {namespace}/{name} does not exist")
    return items[0], str(listed["metadata"]["resourceVersion"])


def _remaining(deadline: float | None, name: str) -> float:
    if deadline is None:
        return WATCH_WINDOW_SECONDS
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise WaitTimeout(f"Execution {name} did not finish in time")
    return remaining
