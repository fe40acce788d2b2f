"""Fixtures of the fault suite: the e2e fixtures, the scale of a run, figures per scenario.

Each test names its scenario with `@pytest.mark.scenario("...")` and records its
measurements through the `figures` fixture; at the end of the session every scenario
that ran is written to bench/results/faults.json as {scenario: {passed, figures}}.
Entries of scenarios this run did not touch are kept, and so are the figures a scenario's
tests recorded at the other scale (FAULTS_FULL); `passed` covers every figure kept.
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
from tests.e2e.operator.conftest import apply_execution, events_of, get_execution, wait_phase
from tests.faults.scene import Scene
from tests.support import kube
from tests.support.cluster_components import wait_healthy

__all__ = [
    "apply_execution",
    "custom",
    "events_of",
    "get_execution",
    "operator",
    "pod_log_backend",
    "runner_image",
    "wait_phase",
]

RESULTS = kube.REPO / "bench" / "results" / "faults.json"
# FAULTS_FULL=1: the counts the scenarios name; otherwise smaller ones that keep the
# suite within a CI budget (each test records the counts it used).
FULL = os.environ.get("FAULTS_FULL") == "1"
FULL_SUFFIX = " (full counts)"

_figures: dict[str, dict[str, Any]] = {}
_passed: dict[str, bool] = {}


def count(full: int, quick: int) -> int:
    return full if FULL else quick


def _scenario(item: pytest.Item) -> str:
    marker = item.get_closest_marker("scenario")
    return str(marker.args[0]) if marker else item.name


@pytest.fixture
def scene(
    apply_execution: Callable[..., dict[str, Any]],
    wait_phase: Callable[..., dict[str, Any]],
    get_execution: Callable[[str], dict[str, Any]],
    custom: client.CustomObjectsApi,
    core: client.CoreV1Api,
    namespace: str,
) -> Scene:
    return Scene(apply_execution, wait_phase, get_execution, custom, core, namespace)


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
        # An xfail (a known defect, strict) passes the suite but not its scenario.
        ok = report.passed and not hasattr(report, "wasxfail") if report.when == "call" else False
        _passed[key] = _passed.get(key, True) and ok
        test = _figures.setdefault(key, {}).setdefault(item.name, {"fullCounts": FULL})
        test["passed"] = ok
        if report.failed:
            test["failure"] = str(report.longrepr)[-1500:]
        elif hasattr(report, "wasxfail"):
            test["knownDefect"] = report.wasxfail


def _merged(previous: dict[str, Any], key: str) -> dict[str, Any]:
    """This run's figures of `key`, plus those its tests recorded at the other scale."""
    kept = {
        name: test
        for name, test in (previous.get(key) or {}).get("figures", {}).items()
        if name.endswith(FULL_SUFFIX) != FULL
    }
    suffix = FULL_SUFFIX if FULL else ""
    figures = {**kept, **{name + suffix: t for name, t in _figures.get(key, {}).items()}}
    passed = _passed[key] and all(t.get("passed", True) for t in kept.values())
    return {"passed": passed, "figures": dict(sorted(figures.items()))}


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _passed:
        return
    previous: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for key in _passed:
        previous[key] = _merged(previous, key)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(dict(sorted(previous.items())), indent=2) + "\n")
