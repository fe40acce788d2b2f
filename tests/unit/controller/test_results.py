"""Small results come from the termination message; others from the pod's log."""

from __future__ import annotations

import json

from execution_operator import naming

from .conftest import Harness


def _finished(harness: Harness, result: object, *, inline: bool, log: bool) -> str:
    harness.cluster.apply("hello")
    harness.reconcile("hello")
    pod = naming.execution_object_name(harness.cluster.execution("hello"), 1)
    harness.cluster.finish(pod, result=result, inline=inline, log=log)
    return pod


def test_an_inline_result_needs_no_log_read(harness: Harness) -> None:
    _finished(harness, {"small": ["result", 1]}, inline=True, log=False)
    final = harness.reconcile("hello")
    assert (final["phase"], final["result"]) == ("Succeeded", {"small": ["result", 1]})
    assert "read_log_tail" not in harness.cluster.calls


def test_without_an_inline_result_the_log_is_read(harness: Harness) -> None:
    _finished(harness, "x" * 5000, inline=False, log=True)
    final = harness.reconcile("hello")
    assert final["result"] == "x" * 5000
    assert harness.cluster.calls.count("read_log_tail") == 1


def test_an_inline_result_that_fails_its_checksum_is_not_used(harness: Harness) -> None:
    pod = _finished(harness, {"n": 1}, inline=True, log=True)
    container = harness.cluster.pod(pod)["status"]["containerStatuses"][0]
    message = json.loads(container["state"]["terminated"]["message"])
    message["result"] = {"n": 2}  # not what resultSha256 says
    container["state"]["terminated"]["message"] = json.dumps(message)
    final = harness.reconcile("hello")
    assert final["result"] == {"n": 1}  # the verified one, from the log
    assert harness.cluster.calls.count("read_log_tail") == 1


def test_an_inline_result_of_another_size_is_not_used(harness: Harness) -> None:
    pod = _finished(harness, [1, 2, 3], inline=True, log=False)
    container = harness.cluster.pod(pod)["status"]["containerStatuses"][0]
    message = json.loads(container["state"]["terminated"]["message"])
    message["resultBytes"] += 1
    container["state"]["terminated"]["message"] = json.dumps(message)
    final = harness.reconcile("hello")
    assert final["reason"] == "RunnerError"  # no log to fall back to: never unverified
    assert "result" not in final
