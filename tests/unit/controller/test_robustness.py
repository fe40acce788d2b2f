"""Transient errors never spin forever: bounded by the start deadline or a number of tries."""

from __future__ import annotations

import pytest
from execution_operator import naming
from execution_operator.decisions import LOG_READ_TRIES
from execution_runner.protocol import Reason

from .conftest import Harness
from .fake import api_error


def _fail_creating(harness: Harness, times: int) -> None:
    harness.cluster.failures["create_or_adopt"] += [
        api_error(503, "etcdserver: request timed out") for _ in range(times)
    ]


def test_transient_creation_errors_are_retried_until_the_start_deadline(
    harness: Harness,
) -> None:
    harness.cluster.apply("hello", startDeadlineSeconds=30)
    _fail_creating(harness, 100)
    for _ in range(3):
        with pytest.raises(Exception, match="503"):
            harness.reconcile("hello")
        harness.clock.advance(harness.wakeup_in("hello"))
        harness.wakeups.clear()
    assert harness.cluster.status("hello")["phase"] == "Pending"
    harness.clock.advance(30)
    final = harness.reconcile("hello")
    assert (final["phase"], final["reason"]) == ("Failed", Reason.START_DEADLINE_EXCEEDED)
    assert "HTTP 503: etcdserver: request timed out" in str(final["message"])
    assert "(30s)" in str(final["message"])


def test_creation_recovers_within_the_deadline(harness: Harness) -> None:
    harness.cluster.apply("hello", startDeadlineSeconds=30)
    _fail_creating(harness, 2)
    for _ in range(2):
        with pytest.raises(Exception, match="503"):
            harness.reconcile("hello")
    harness.clock.advance(10)
    assert harness.reconcile("hello")["phase"] == "Pending"
    assert len(harness.cluster.pods) == 1


def test_a_start_deadline_from_creation_errors_is_retried_under_retries(
    harness: Harness,
) -> None:
    harness.cluster.apply("hello", startDeadlineSeconds=30, retries=1)
    _fail_creating(harness, 1)
    with pytest.raises(Exception, match="503"):
        harness.reconcile("hello")
    harness.clock.advance(30)
    _fail_creating(harness, 1)
    status = harness.reconcile("hello")
    assert (status["phase"], status["attempts"]) == ("Pending", 2)
    assert len(harness.cluster.pods) == 1  # attempt 2's pod, created on the retry


def test_a_pod_log_that_cannot_be_read_ends_as_runner_error_after_bounded_tries(
    harness: Harness,
) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    pod = naming.execution_object_name(harness.cluster.execution("hello"), 1)
    harness.cluster.finish(pod, result="big")
    harness.cluster.failures["read_log_tail"] += [
        api_error(500, "no preferred addresses found") for _ in range(100)
    ]
    for _ in range(LOG_READ_TRIES - 1):
        with pytest.raises(Exception, match="500"):
            harness.reconcile("hello")
    final = harness.reconcile("hello")
    assert (final["phase"], final["reason"]) == ("Failed", Reason.RUNNER_ERROR)
    assert "no preferred addresses found" in str(final["message"])
    assert harness.cluster.calls.count("read_log_tail") == LOG_READ_TRIES


def test_a_pod_log_read_that_recovers_gives_the_result(harness: Harness) -> None:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    pod = naming.execution_object_name(harness.cluster.execution("hello"), 1)
    harness.cluster.finish(pod, result="ok")
    harness.cluster.failures["read_log_tail"].append(api_error(500))
    with pytest.raises(Exception, match="500"):
        harness.reconcile("hello")
    final = harness.reconcile("hello")
    assert (final["phase"], final["result"]) == ("Succeeded", "ok")
