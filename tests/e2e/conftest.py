"""Fixtures of the end-to-end tests: the runner image, a log backend the pods can reach."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.support import kube
from tests.support.netns_backend import NetnsLogBackend, ensure_pod_bridge
from tests.support.operator_process import OperatorProcess, install_crds
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


# One operator for every test directory: a second one would act on the same Executions.
@pytest.fixture(scope="session")
def operator(
    kube_api: client.ApiClient, runner_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    """One operator for the session; tests that kill it start it again."""
    install_crds()
    log = tmp_path_factory.mktemp("operator") / "operator.log"
    with OperatorProcess(log, runner_image) as process:
        yield process


@pytest.fixture(scope="session")
def custom(kube_api: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(kube_api)
