"""Fixtures of the operator's end-to-end tests (the operator itself: tests/e2e/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from execution_operator import models
from kubernetes import client

from tests.support import kube
from tests.support.operator_process import OperatorProcess


@pytest.fixture
def apply_execution(
    operator: OperatorProcess, custom: client.CustomObjectsApi, namespace: str
) -> Callable[..., dict[str, Any]]:
    """Create an Execution from a spec in the test's namespace."""

    def create(name: str, spec: dict[str, Any], **meta: Any) -> dict[str, Any]:
        body = {
            "apiVersion": models.API_VERSION,
            "kind": models.KIND,
            "metadata": {"name": name, **meta},
            "spec": spec,
        }
        created: dict[str, Any] = custom.create_namespaced_custom_object(
            models.GROUP, models.VERSION, namespace, models.PLURAL, body
        )
        return created

    return create


@pytest.fixture
def get_execution(
    custom: client.CustomObjectsApi, namespace: str
) -> Callable[[str], dict[str, Any]]:
    def get(name: str) -> dict[str, Any]:
        body: dict[str, Any] = custom.get_namespaced_custom_object(
            models.GROUP, models.VERSION, namespace, models.PLURAL, name
        )
        return body

    return get


@pytest.fixture
def wait_phase(
    get_execution: Callable[[str], dict[str, Any]],
) -> Callable[..., dict[str, Any]]:
    """Wait until an Execution reaches one of the phases; returns its status."""

    def wait(name: str, *phases: str, timeout: float = 60) -> dict[str, Any]:
        wanted = phases or ("Succeeded", "Failed", "Cancelled")

        def reached() -> dict[str, Any] | None:
            status: dict[str, Any] = get_execution(name).get("status") or {}
            return status if status.get("phase") in wanted else None

        return kube.wait_until(reached, timeout, f"Execution {name} to reach {wanted}")

    return wait


@pytest.fixture
def pods_of(core: client.CoreV1Api, namespace: str) -> Callable[[str], list[Any]]:
    def pods(uid: str) -> list[Any]:
        return list(
            core.list_namespaced_pod(
                namespace, label_selector=f"execution-operator.io/uid={uid}"
            ).items
        )

    return pods


@pytest.fixture
def configmaps_of(core: client.CoreV1Api, namespace: str) -> Callable[[str], list[Any]]:
    """The payload ConfigMaps of the Execution with this uid."""

    def configmaps(uid: str) -> list[Any]:
        selector = f"execution-operator.io/uid={uid}"
        return list(core.list_namespaced_config_map(namespace, label_selector=selector).items)

    return configmaps


@pytest.fixture
def events_of(core: client.CoreV1Api, namespace: str) -> Callable[[str], list[Any]]:
    def events(name: str) -> list[Any]:
        return [
            e
            for e in core.list_namespaced_event(namespace).items
            if e.involved_object.kind == "Execution" and e.involved_object.name == name
        ]

    return events
