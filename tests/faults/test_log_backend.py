"""Scenario 7: the log backend down, flapping, or gone for a window: results unaffected,
and every line produced is either delivered or counted as dropped."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.faults.scene import Scene
from tests.support import kube
from tests.support.netns_backend import NetnsLogBackend, ensure_pod_bridge

pytestmark = [pytest.mark.faults, pytest.mark.cluster]

LINES = 600
# About 6 s of output: long enough for outages to fall in the middle of it.
CODE = (
    "import time\nfor i in range(data['lines']):\n    print('line %d' % i, flush=True)\n"
    "    time.sleep(0.01)\nresult = data['lines']\n"
)
OUTAGES: dict[str, list[tuple[float, float]]] = {
    # name: (seconds after Running the backend goes away, seconds it stays away)
    "down-whole-run": [],
    "window-in-the-middle": [(1.5, 2.5)],
    "flapping": [(0.5, 0.6), (1.6, 0.6), (2.7, 0.6), (3.8, 0.6)],
}


def _outages(backend: NetnsLogBackend, schedule: list[tuple[float, float]]) -> None:
    start = time.monotonic()
    for at, length in schedule:
        time.sleep(max(0.0, start + at - time.monotonic()))  # the schedule is the fault
        backend.stop()
        time.sleep(length)
        backend.start()


@pytest.mark.scenario("7-log-backend-outages")
@pytest.mark.parametrize("name", list(OUTAGES))
def test_log_backend_outage(
    name: str, scene: Scene, runner_image: str, tmp_path: Path, figures: dict[str, Any]
) -> None:
    ensure_pod_bridge(scene.core, scene.namespace, kube.BASE_IMAGE)
    backend = NetnsLogBackend(tmp_path / "backend.jsonl").start()
    try:
        if name == "down-whole-run":
            backend.stop()  # its port stays closed for the whole run
        scene.apply(
            name,
            {
                "code": CODE,
                "input": {"lines": LINES},
                "logs": {"endpoint": backend.url, "flushIntervalMillis": 200},
            },
        )
        scene.wait(name, "Running", "Succeeded", "Failed", timeout=60)
        chaos = threading.Thread(target=_outages, args=(backend, OUTAGES[name]))
        chaos.start()
        status = scene.wait(name, timeout=90)
        chaos.join()
    finally:
        backend.stop()
    delivered = [r for r in backend.records() if str(r.get("message", "")).startswith("line ")]
    counters = status.get("logs") or {}
    figures.update(lines=LINES, delivered=len(delivered), counters=counters)
    assert (status["reason"], status["result"]) == ("Completed", LINES), status
    # `records` counts what the backend acknowledged; every other line is `dropped`.
    assert counters.get("records") == len(delivered), (len(delivered), counters)
    assert counters["records"] + counters.get("dropped", 0) == LINES, counters
    assert len({r["message"] for r in delivered}) == len(delivered), "a record arrived twice"
    if name != "down-whole-run":
        assert len(delivered) == LINES, "the backlog within the buffer was not delivered"
