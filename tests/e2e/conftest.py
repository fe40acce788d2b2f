"""Fixtures of the end-to-end tests: the runner image, a log backend the pods can reach."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.support import kube
from tests.support.netns_backend import NetnsLogBackend, ensure_pod_bridge
from tests.support.runner_pod import make_runner_image


@pytest.fixture(scope="session")
def runner_image(kube_api: client.ApiClient) -> str:
    """The runner image, built and loaded once per session (no rebuild when it is current)."""
    return make_runner_image()


@pytest.fixture
def pod_log_backend(
    core: client.CoreV1Api, namespace: str, runner_image: str, tmp_path: Path
) -> Iterator[NetnsLogBackend]:
    """A real log backend in the cluster's network namespace, on the pods' gateway."""
    ensure_pod_bridge(core, namespace, kube.BASE_IMAGE)
    with NetnsLogBackend(tmp_path / "log-backend.jsonl") as backend:
        yield backend
