"""The liveness endpoint reports each of the operator's own checks."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

from tests.support import kube
from tests.support.operator_process import OperatorProcess


def test_liveness_reports_every_probe_healthy_after_a_run(
    operator: OperatorProcess,
    apply_execution: Callable[..., dict[str, Any]],
    wait_phase: Callable[..., dict[str, Any]],
) -> None:
    apply_execution("alive", {"code": "result = 1"})
    assert wait_phase("alive")["phase"] == "Succeeded"

    def probes() -> dict[str, Any]:
        url = f"http://127.0.0.1:{operator.liveness_port}/healthz"
        with urllib.request.urlopen(url, timeout=5) as response:
            body: dict[str, Any] = json.load(response)
        return body

    # kopf caches the probes' results for 10 s. "watches" is "ok" only once every write
    # of the operator (status, pods) has come back through the watches; "dispatch" only
    # once the event queue is empty.
    healthy = {"dispatch": "ok", "steps": "ok", "wakeups": "ok", "watches": "ok"}
    kube.wait_until(lambda: probes() == healthy, 30, "all probes to report ok")
