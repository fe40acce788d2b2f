"""The liveness probes fail while a step or the wake-up thread is stuck."""

from __future__ import annotations

import kopf
import pytest
from execution_operator import handlers

from .conftest import Harness


def test_a_step_stuck_longer_than_the_bound_fails_liveness(harness: Harness) -> None:
    harness.cluster.apply("hello")
    memo = harness.memo()
    verdicts: list[str] = []

    def hang() -> None:
        verdicts.append(handlers.steps_alive(memo=memo))
        harness.clock.advance(handlers.STEP_STUCK_SECONDS + 1)
        with pytest.raises(kopf.PermanentError, match="running for"):
            handlers.steps_alive(memo=memo)
        verdicts.append("failed")

    harness.cluster.during["create_or_adopt"] = hang
    harness.reconcile("hello")
    assert verdicts == ["ok", "failed"]
    assert handlers.steps_alive(memo=memo) == "ok"


def test_probes_pass_before_startup() -> None:
    assert handlers.steps_alive(memo=kopf.Memo()) == "ok"
    assert handlers.wakeups_alive(memo=kopf.Memo()) == "ok"
