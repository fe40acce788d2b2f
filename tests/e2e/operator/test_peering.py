"""Peering (for HA): a replica with a higher priority makes a lower one pause."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support import kube
from tests.support.operator_process import OperatorProcess


@pytest.mark.slow
def test_a_higher_priority_replica_takes_over(
    operator: OperatorProcess,
    runner_image: str,
    namespace: str,
    apply_execution: Callable[..., dict[str, Any]],
    wait_phase: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    # The session's operator is standalone; two peered replicas replace it here.
    operator.stop()
    peered = {
        "EXECUTION_OPERATOR_PEERING": "true",
        "EXECUTION_OPERATOR_PEERING_NAME": f"peering-{namespace}",
        "EXECUTION_OPERATOR_NAMESPACES": namespace,
    }
    low = OperatorProcess(
        tmp_path / "low.log",
        runner_image,
        {**peered, "EXECUTION_OPERATOR_PEERING_PRIORITY": "10"},
    )
    high = OperatorProcess(
        tmp_path / "high.log",
        runner_image,
        {**peered, "EXECUTION_OPERATOR_PEERING_PRIORITY": "20"},
    )
    try:
        # Alone, the lower replica runs an Execution and holds a wake-up for its TTL.
        low.start()
        apply_execution("early", {"code": "result = 1", "ttlSecondsAfterFinished": 20})
        wait_phase("early", timeout=60)
        high.start()
        kube.wait_until(
            lambda: "Pausing operations" in low.log_text(), 60, "the lower replica to pause"
        )
        apply_execution("peered", {"code": "result = 'from the active replica'"})
        status = wait_phase("peered", timeout=60)
        assert status["result"] == "from the active replica"
        assert "peered: attempt 1 started" in high.log_text()
        assert "peered: attempt 1 started" not in low.log_text()
        # The TTL comes due in both replicas; only the active one acts on it.
        skipped = f"wake-up of ('{namespace}', 'early') left to the active replica"
        kube.wait_until(lambda: skipped in low.log_text(), 60, "the paused replica's wake-up")
        kube.wait_until(
            lambda: "early: TTL reached" in high.log_text(), 60, "the active replica's TTL"
        )
        assert "early: TTL reached" not in low.log_text()
    finally:
        high.stop()
        low.stop()
        operator.start()
