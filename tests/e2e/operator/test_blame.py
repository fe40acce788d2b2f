"""Code that attacks its runner is blamed on the code: 400, one attempt, no retry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Apply = Callable[..., dict[str, Any]]
Wait = Callable[..., dict[str, Any]]

KILL_THE_RUNNER = """
import os, signal, time
os.kill(1, signal.SIGTERM)
time.sleep(20)
result = "not reached"
"""


def test_sigterm_to_pid_1_is_a_user_error_never_retried(
    apply_execution: Apply, wait_phase: Wait
) -> None:
    apply_execution("kills-runner", {"code": KILL_THE_RUNNER, "retries": 2})
    status = wait_phase("kills-runner", timeout=90)

    assert (status["phase"], status["reason"], status["code"]) == ("Failed", "UserError", 400)
    assert status["attempts"] == 1
    assert "sent SIGTERM to its runner" in status["message"]


def test_unencodable_exception_is_a_user_error(apply_execution: Apply, wait_phase: Wait) -> None:
    apply_execution("surrogate", {"code": 'raise ValueError("\\udc80")\n'})
    status = wait_phase("surrogate", timeout=60)

    assert (status["phase"], status["reason"], status["code"]) == ("Failed", "UserError", 400)
    assert status["error"]["type"] == "ValueError"
