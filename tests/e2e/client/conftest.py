"""Fixtures of the client's end-to-end tests: the operator's, plus an executor per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from execution_operator.client import ClusterExecutor

# Function-scoped helpers of the operator's tests; `operator` itself is tests/e2e/conftest.py's.
from tests.e2e.operator.conftest import (  # noqa: F401
    apply_execution,
    get_execution,
    wait_phase,
)
from tests.support import kube
from tests.support.operator_process import OperatorProcess


@pytest.fixture
def executor(operator: OperatorProcess, namespace: str) -> Iterator[ClusterExecutor]:
    with ClusterExecutor(
        timeout_secs=30, kubeconfig=kube.kubeconfig_path(), namespace=namespace
    ) as executor:
        yield executor
