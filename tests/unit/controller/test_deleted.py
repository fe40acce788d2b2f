"""Nothing is kept for an Execution that is gone."""

from __future__ import annotations

import kopf
from execution_operator import handlers

from .conftest import Harness, deliver


def test_a_deleted_execution_leaves_no_wake_up(harness: Harness) -> None:
    memo = harness.memo()
    runtime = memo[handlers.RUNTIME]
    later = harness.clock.now().timestamp() + 86_400  # a long TTL
    runtime.wakeups.at(("ns", "gone"), later)
    runtime.wakeups.at(("ns", "kept"), later)
    body = kopf.Body({"metadata": {"name": "gone", "namespace": "ns", "uid": "u-1"}})
    deliver(
        memo,
        handlers.execution_changed,
        type="DELETED",
        body=body,
        name="gone",
        namespace="ns",
        uid="u-1",
    )
    assert len(runtime.wakeups) == 1
    assert len(harness.controller.steps) == 0
