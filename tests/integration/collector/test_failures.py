"""An unhealthy backend: retries, rejections, outages, hangs; bounded time and memory."""

from __future__ import annotations

import time

import pytest
from execution_runner import protocol
from execution_runner.collector.line_queue import charged_bytes

from tests.support.log_backend import LogBackend, closed_port
from tests.support.waiting import wait_until

from .conftest import CollectorFactory

DEADLINE = 1.5
# close() may overrun its deadline only by scheduling noise.
SLACK = 0.3


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_are_retried_until_the_backend_recovers(
    backend: LogBackend, make_collector: CollectorFactory, status: int
) -> None:
    backend.fail(status, count=3)
    collector = make_collector(backend.url, flushIntervalMillis=50)
    for i in range(1000):
        collector.add("stdout", f"line {i}")
    assert backend.wait_for(lambda b: len(b.records()) == 1000, timeout=10)
    counters = collector.close(5)

    assert [r["message"] for r in backend.records()] == [f"line {i}" for i in range(1000)]
    assert collector.retries == 3
    assert counters["failedBatches"] == counters["dropped"] == 0
    assert counters["records"] == 1000
    assert [r.status for r in backend.requests][:3] == [status] * 3


def test_a_rejected_batch_is_not_retried_and_is_counted(
    backend: LogBackend, make_collector: CollectorFactory
) -> None:
    backend.fail(400, count=1)
    collector = make_collector(backend.url, flushIntervalMillis=60_000)
    for i in range(10):
        collector.add("stdout", f"lost {i}")
    collector.close(5)  # nothing else has sent the first batch

    collector2 = make_collector(backend.url, flushIntervalMillis=60_000)
    collector2.add("stdout", "kept")
    counters2 = collector2.close(5)
    assert collector.retries == 0
    assert collector.counters() == {
        "records": 0,
        "bytes": 0,
        "batches": 0,
        "failedBatches": 1,
        "dropped": 10,
    }
    assert collector.last_error is not None
    assert collector.last_error.startswith("HTTP 400")
    assert counters2["records"] == 1
    assert [r.status for r in backend.requests] == [400, 200]


def test_backend_down_for_the_whole_run_costs_at_most_the_deadline(
    make_collector: CollectorFactory,
) -> None:
    line = "x" * 200
    bound = 1000 * charged_bytes(line)
    collector = make_collector(
        f"http://127.0.0.1:{closed_port()}/logs",
        maxQueueBytes=bound,
        flushIntervalMillis=50,
        overflow=protocol.LogsOverflow.DROP,  # add() here does not wait for ready()
    )
    started = time.monotonic()
    for _ in range(5000):
        collector.add("stdout", line)
    added = time.monotonic() - started
    start_close = time.monotonic()
    counters = collector.close(DEADLINE)
    took = time.monotonic() - start_close

    assert added < 1.0  # add never waits for the backend
    assert took <= DEADLINE + SLACK
    assert counters == {"records": 0, "bytes": 0, "batches": 0, "failedBatches": 1, "dropped": 5000}
    assert collector.peak_queue_bytes <= bound
    assert collector.retries >= 1


def test_a_backend_that_never_answers_cannot_delay_close(
    backend: LogBackend, make_collector: CollectorFactory
) -> None:
    backend.hang()
    collector = make_collector(backend.url, flushIntervalMillis=50)
    for i in range(100):
        collector.add("stdout", f"line {i}")
    assert backend.wait_for(lambda b: b.arrived == 1, timeout=5)
    started = time.monotonic()
    counters = collector.close(DEADLINE)

    assert time.monotonic() - started <= DEADLINE + SLACK
    assert counters["records"] == 0
    assert counters["failedBatches"] == 1
    assert counters["dropped"] == 100


def test_a_backend_that_goes_away_and_comes_back_loses_nothing(
    backend: LogBackend, make_collector: CollectorFactory
) -> None:
    collector = make_collector(backend.url, flushIntervalMillis=50)
    collector.add("stdout", "before")
    assert backend.wait_for(lambda b: len(b.records()) == 1, timeout=5)
    backend.stop()
    for i in range(100):
        collector.add("stdout", f"during {i}")
    wait_until(lambda: collector.retries >= 2, 10, "the outage to be noticed")
    backend.start()
    counters = collector.close(10)

    assert [r["message"] for r in backend.records()] == ["before"] + [
        f"during {i}" for i in range(100)
    ]
    assert collector.retries >= 1
    assert counters["dropped"] == counters["failedBatches"] == 0


def test_disabled_or_endpointless_logging_ships_nothing(
    backend: LogBackend, make_collector: CollectorFactory
) -> None:
    for collector in (make_collector(None), make_collector(backend.url, enabled=False)):
        collector.add("stdout", "mirrored only")
        assert collector.close(1) == dict.fromkeys(
            ("records", "bytes", "batches", "failedBatches", "dropped"), 0
        )
    assert backend.requests == []
