"""Shared fixtures: the real local cluster, a namespace per test."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from kubernetes import client

from tests.support import kube


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "/tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.cluster)
    # Tests that restart the cluster run last, so they disturb nobody else.
    items.sort(key=lambda item: item.get_closest_marker("disruptive") is not None)


@pytest.fixture(scope="session")
def kube_api() -> client.ApiClient:
    kube.ensure_cluster()
    return kube.api_client()


@pytest.fixture(scope="session")
def core(kube_api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(kube_api)


@pytest.fixture
def namespace(request: pytest.FixtureRequest, core: client.CoreV1Api) -> Iterator[str]:
    slug = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower()).strip("-")
    name = kube.create_namespace(core, slug)
    yield name
    core.delete_namespace(name, propagation_policy="Background")
