"""Batch bodies, the bounded queue, settings and the retry policy."""

from __future__ import annotations

import gzip
import json
import sys
import tracemalloc

import pytest
from execution_runner import protocol
from execution_runner.collector.backend_client import (
    LOGS_WORKSPACE_HEADER,
    RETRY_MAX_SECONDS,
    backoff_delay,
    classify,
    request_headers,
)
from execution_runner.collector.batching import BatchBuilder, body_prefix
from execution_runner.collector.line_queue import BLOCK_SLACK_BYTES, LineQueue, charged_bytes
from execution_runner.config import log_settings
from execution_runner.errors import RunnerError


def record(i: int) -> bytes:
    return json.dumps({"message": f"line {i}"}).encode()


def test_body_has_attributes_at_top_level_then_logs() -> None:
    assert body_prefix({"optimization_id": "o", "job_id": "j", "logs": "x"}) == (
        b'{"optimization_id":"o","job_id":"j","logs":['
    )
    assert body_prefix({}) == b'{"logs":['


def test_batch_body_is_gzip_json_and_size_is_exact() -> None:
    batch = BatchBuilder({"job_id": "j"}, 1 << 20)
    for i in range(3000):
        assert batch.add(record(i))
    size = batch.size
    raw = gzip.decompress(batch.finish())
    assert len(raw) == size
    assert json.loads(raw) == {
        "job_id": "j",
        "logs": [{"message": f"line {i}"} for i in range(3000)],
    }
    assert batch.count == 0  # ready for the next batch


def test_batch_refuses_a_record_that_would_exceed_the_bound() -> None:
    one = len(record(0))
    batch = BatchBuilder({}, len(b'{"logs":[]}') + 2 * one + 1)
    assert batch.add(record(0))
    assert batch.add(record(1))
    assert not batch.add(record(2))
    assert json.loads(gzip.decompress(batch.finish()))["logs"] == [
        {"message": "line 0"},
        {"message": "line 1"},
    ]


def test_a_record_larger_than_the_bound_goes_alone() -> None:
    batch = BatchBuilder({}, 10)
    assert batch.add(record(0))
    assert not batch.add(record(1))


def test_queue_drops_and_counts_overflow_and_never_exceeds_its_bound() -> None:
    line = "x" * 100
    queue = LineQueue(max_bytes=10 * charged_bytes(line), wake_bytes=1)
    for _ in range(25):
        queue.put("stdout", line)
    assert queue.queued_lines() == 10
    assert queue.dropped == 15
    assert queue.peak_bytes == queue.used_bytes <= queue.max_bytes
    taken = queue.take(4)
    assert [item.line for item in taken] == [line] * 4
    queue.put("stdout", line)
    assert queue.dropped == 16  # taken lines stay charged until released
    queue.release(sum(item.charged for item in taken))
    queue.put("stdout", line)
    assert queue.queued_lines() == 7


def test_block_lets_a_pacing_reader_finish_its_read_past_the_bound() -> None:
    line = "x" * 100
    queue = LineQueue(max_bytes=10 * charged_bytes(line), wake_bytes=1, block=True)
    added = 0
    while queue.ready():  # the runner: asks before each read, stops when told
        queue.put("stdout", line)
        added += 1
    assert added == 10
    for _ in range(30):  # the rest of the read in progress
        queue.put("stdout", line)
    assert queue.dropped == 0
    assert queue.queued_lines() == 40
    assert queue.peak_bytes <= queue.max_bytes + BLOCK_SLACK_BYTES
    # A failing backend never holds the reader back, and the bound applies again.
    queue.backend_ok = False
    assert queue.ready()
    queue.put("stdout", line)
    assert queue.dropped == 1


def test_a_writer_that_never_asks_ready_gets_the_bound_exactly() -> None:
    line = "x" * 100
    queue = LineQueue(max_bytes=10 * charged_bytes(line), wake_bytes=1, block=True)
    for _ in range(25):
        queue.put("stdout", line)
    assert queue.queued_lines() == 10
    assert queue.dropped == 15
    assert queue.peak_bytes == queue.max_bytes


def test_charged_bytes_cover_what_a_queued_line_really_takes() -> None:
    lines = [f"epoch 3 step {i:07d} loss=0.123456" for i in range(20_000)]
    queue = LineQueue(max_bytes=1 << 40, wake_bytes=1 << 40)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for line in lines:
            queue.put("stdout", line)
        taken = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    really = taken + sum(sys.getsizeof(line) for line in lines)  # the texts are queued too
    assert really <= queue.used_bytes <= 1.5 * really


def test_settings_defaults_and_bad_values() -> None:
    settings = log_settings({"endpoint": "http://b/logs", "maxBatchBytes": None})
    assert settings.shipping
    assert settings.flush_interval == 1.0
    assert settings.max_batch_bytes == protocol.DEFAULT_LOGS_MAX_BATCH_BYTES
    assert settings.max_queue_bytes == protocol.DEFAULT_LOGS_MAX_QUEUE_BYTES
    assert settings.overflow == protocol.LogsOverflow.BLOCK
    # One strict parser: a wrong value names its key instead of silently becoming a default.
    for bad in ({"maxBatchBytes": True}, {"maxQueueBytes": -1}, {"overflow": "spill"}):
        with pytest.raises(RunnerError, match=f"logs.{next(iter(bad))}"):
            log_settings(bad)
    assert not log_settings({}).shipping
    assert not log_settings({"endpoint": "http://b", "enabled": False}).shipping
    assert log_settings({"flushIntervalMillis": 250}).flush_interval == 0.25


def test_headers() -> None:
    assert request_headers("k", "ws") == {
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
        "User-Agent": "execution-runner",
        "Authorization": "Bearer k",
        LOGS_WORKSPACE_HEADER: "ws",
    }
    assert "Authorization" not in request_headers(None, None)


@pytest.mark.parametrize(
    ("status", "delivered", "retryable"),
    [
        (200, True, False),
        (204, True, False),
        (429, False, True),
        (500, False, True),
        (503, False, True),
        (400, False, False),
        (401, False, False),
        (404, False, False),
        (302, False, False),
    ],
)
def test_classify(status: int, delivered: bool, retryable: bool) -> None:
    result = classify(status, "", None)
    assert (result.delivered, result.retryable) == (delivered, retryable)


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    assert classify(503, "", "2").retry_after == 2.0
    assert classify(400, "", "2").retry_after is None
    assert backoff_delay(0, 2.0) == 2.0
    assert backoff_delay(0, 600.0) == RETRY_MAX_SECONDS


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    for attempt, ceiling in [(0, 0.1), (1, 0.2), (3, 0.8), (10, RETRY_MAX_SECONDS)]:
        delays = [backoff_delay(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1
    assert backoff_delay(10_000) <= RETRY_MAX_SECONDS
