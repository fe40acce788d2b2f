"""API errors: conflicts redone on fresh state, transient ones backed off, refusals final."""

from __future__ import annotations

import pytest
from execution_operator import api_errors
from execution_operator.steps import RETRY_MAX_SECONDS, RETRY_SECONDS
from execution_runner.protocol import Reason

from .conftest import Harness
from .fake import api_error


def test_a_write_conflict_is_decided_again_on_fresh_state(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.cluster.failures["patch_execution_status"].append(api_error(409))
    status = harness.reconcile("hello")
    assert status["phase"] == "Pending"
    assert harness.cluster.calls.count("get_execution") == 2
    assert len(harness.cluster.pods) == 1


def _fail_a_step(harness: Harness, status: int = 503) -> float:
    """One reconcile failing on the API with `status`: the back-off it asked for."""
    harness.wakeups.clear()
    harness.cluster.failures["get_execution"].append(api_error(status))
    with pytest.raises(Exception, match=str(status)):
        harness.reconcile("hello")
    return harness.wakeup_in("hello")


def test_a_transient_error_is_retried_with_a_growing_backoff(harness: Harness) -> None:
    harness.cluster.apply("hello")
    delays = [_fail_a_step(harness) for _ in range(3)]
    # Jitter takes each delay to between half and all of RETRY_SECONDS * 2**n.
    for n, delay in enumerate(delays):
        assert RETRY_SECONDS * 2**n / 2 <= delay <= RETRY_SECONDS * 2**n
    # Success resets the back-off, and the step is taken.
    assert harness.reconcile("hello")["phase"] == "Pending"
    assert _fail_a_step(harness) <= RETRY_SECONDS


def test_the_backoff_is_capped(harness: Harness) -> None:
    harness.cluster.apply("hello")
    delays = [_fail_a_step(harness, 500) for _ in range(30)]
    assert max(delays) <= RETRY_MAX_SECONDS
    assert delays[-1] >= RETRY_MAX_SECONDS / 2


def test_a_permanent_refusal_of_the_pod_fails_at_once_quoting_the_api(harness: Harness) -> None:
    harness.cluster.apply("hello")
    refusal = api_errors.RefusedError("Pod", "p", "no PriorityClass with name nope was found")
    harness.cluster.failures["create_or_adopt"].append(refusal)  # the ConfigMap came before
    status = harness.reconcile("hello")
    assert (status["phase"], status["reason"]) == ("Failed", Reason.POD_REJECTED)
    assert "no PriorityClass with name nope" in str(status["message"])
    harness.wakeups.clear()
    harness.reconcile("hello")  # terminal: nothing more is tried
    assert harness.cluster.calls.count("create_or_adopt") == 1


def test_nothing_is_remembered_of_an_execution_between_successful_steps(
    harness: Harness,
) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    assert len(harness.controller.steps) == 0
    _fail_a_step(harness, 500)
    assert len(harness.controller.steps) == 1  # the failure in a row, for the back-off
    harness.reconcile("hello")
    assert len(harness.controller.steps) == 0


def test_a_step_hung_in_an_api_call_shows_until_it_returns(harness: Harness) -> None:
    harness.cluster.apply("hello")
    seen: list[float | None] = []

    def hang() -> None:
        harness.clock.advance(400)
        seen.append(harness.controller.stuck_for())

    harness.cluster.during["create_or_adopt"] = hang
    assert harness.controller.stuck_for() is None
    harness.reconcile("hello")
    assert seen == [400]
    assert harness.controller.stuck_for() is None
