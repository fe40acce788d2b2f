"""A live loopback log backend and collectors pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from execution_runner.collector.log_collector import LogCollector
from execution_runner.config import log_settings
from execution_runner.redact import Redactor

from tests.support.log_backend import LogBackend

IDENTITY = {
    "namespace": "team-a",
    "name": "train",
    "uid": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "pod": "train-7c9e6679-1",
    "node": "node-1",
    "attempt": "1",
}
ATTRIBUTES = {"optimization_id": "opt-42", "job_id": "job-7"}
API_KEY = "test-api-key-0001"
WORKSPACE = "research"

CollectorFactory = Callable[..., LogCollector]


@pytest.fixture
def backend() -> Iterator[LogBackend]:
    with LogBackend() as live:
        yield live


@pytest.fixture
def make_collector() -> Iterator[CollectorFactory]:
    """Builds started collectors; any left open are closed at the end of the test."""
    made: list[LogCollector] = []

    def make(endpoint: str | None, secrets: tuple[str, ...] = (), **logs: Any) -> LogCollector:
        settings = {"endpoint": endpoint, "attributes": ATTRIBUTES, **logs}
        collector = LogCollector(
            log_settings(settings), IDENTITY, Redactor(secrets), API_KEY, WORKSPACE
        )
        collector.start()
        made.append(collector)
        return collector

    yield make
    for collector in made:
        collector.close(0)
