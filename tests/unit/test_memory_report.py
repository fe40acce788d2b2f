"""The memory report the operator logs on SIGUSR2."""

from __future__ import annotations

import logging
import os
import signal
import tracemalloc

import pytest
from execution_operator import memory


class Hoard:
    """A type only this test makes, so its count in the report is ours."""


def test_report_counts_live_objects_by_type() -> None:
    hoard = [Hoard() for _ in range(5000)]
    counts = dict(memory.object_counts(top=1000))
    assert counts["Hoard"] >= 5000
    del hoard


def test_report_names_the_line_that_holds_memory_when_tracing() -> None:
    tracemalloc.start(5)
    try:
        hoard = [bytearray(1024) for _ in range(4000)]  # about 4 MiB from this line
        text = memory.report()
    finally:
        tracemalloc.stop()
    assert "traced Python allocations" in text
    top = text.split("live objects by type:")[0]
    assert f"{__file__}:" in top
    assert memory.rss_mib() > 0
    del hoard


def test_report_says_how_to_trace_when_off() -> None:
    assert not tracemalloc.is_tracing()
    assert "PYTHONTRACEMALLOC" in memory.report()


def test_sigusr2_logs_the_report(caplog: pytest.LogCaptureFixture) -> None:
    previous = signal.getsignal(memory.DUMP_SIGNAL)
    memory.install()
    try:
        with caplog.at_level(logging.WARNING, logger=memory.__name__):
            os.kill(os.getpid(), memory.DUMP_SIGNAL)
    finally:
        signal.signal(memory.DUMP_SIGNAL, previous)
    assert any("memory: RSS" in record.getMessage() for record in caplog.records)


def test_trim_gives_freed_heap_pages_back() -> None:
    # 4 KiB pieces come from malloc's heap; one in ten kept alive stops the heap
    # shrinking by itself (free only returns memory from its top).
    pieces = [bytes(4096) for _ in range(40_000)]
    kept = pieces[::10]
    del pieces
    before = memory.rss_mib()
    assert memory.trim()
    assert before - memory.rss_mib() > 50  # of the ~140 MiB freed
    del kept
