"""Fixtures of the fault suite: the e2e fixtures, the scale of a run, figures per scenario.

Each test names its scenario with `@pytest.mark.scenario("...")` and records its
measurements through the `figures` fixture; at the end of the session every scenario
that ran is written to bench/results/faults.json as {scenario: {passed, figures}},
keeping the entries of scenarios this run did not touch.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client

from tests.e2e.conftest import custom, operator, pod_log_backend, runner_image
from tests.e2e.operator.conftest import (
    apply_execution,
    events_of,
    get_execution,
    pods_of,
    wait_phase,
)
from tests.support import kube
from tests.support.cluster_components import wait_healthy

__all__ = [
    "apply_execution",
    "custom",
    "events_of",
    "get_execution",
    "operator",
    "pod_log_backend",
    "pods_of",
    "runner_image",
    "wait_phase",
]

RESULTS = kube.REPO / "bench" / "results" / "faults.json"
# FAULTS_FULL=1: the counts the scenarios name; otherwise smaller ones that keep the
# suite within a CI budget (each test records the counts it used).
FULL = os.environ.get("FAULTS_FULL") == "1"

_figures: dict[str, dict[str, Any]] = {}
_passed: dict[str, bool] = {}


def count(full: int, quick: int) -> int:
    return full if FULL else quick


def _scenario(item: pytest.Item) -> str:
    marker = item.get_closest_marker("scenario")
    return str(marker.args[0]) if marker else item.name


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Measurements of the running test, written under its scenario (and test name)."""
    entry = _figures.setdefault(_scenario(request.node), {})
    mine: dict[str, Any] = entry.setdefault(request.node.name, {})
    mine["fullCounts"] = FULL
    return mine


@pytest.fixture(autouse=True)
def _healthy_cluster(core: client.CoreV1Api) -> Iterator[None]:
    """Every scenario starts and ends with the node Ready."""
    wait_healthy(core)
    yield
    wait_healthy(core)


@pytest.fixture
def timed() -> Callable[[], float]:
    started = time.monotonic()
    return lambda: round(time.monotonic() - started, 2)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when == "call" or report.failed:
        key = _scenario(item)
        ok = report.passed if report.when == "call" else False
        _passed[key] = _passed.get(key, True) and ok
        if report.failed:
            test = _figures.setdefault(key, {}).setdefault(item.name, {})
            test["failure"] = str(report.longrepr)[-1500:]


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _passed:
        return
    previous: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for key, passed in _passed.items():
        previous[key] = {"passed": passed, "figures": _figures.get(key, {})}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(dict(sorted(previous.items())), indent=2) + "\n")
