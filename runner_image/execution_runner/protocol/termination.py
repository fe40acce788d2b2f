"""The termination message: keys, document types, log counters, timestamps."""

from __future__ import annotations

import time

# `typing` costs milliseconds of the runner's start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final, TypedDict
else:
    from execution_runner.protocol.typed_dict import TypedDict

# --- termination message (JSON, at most TERMINATION_MESSAGE_MAX_BYTES) -------
TERMINATION_MESSAGE_MAX_BYTES: Final = 4096


class TerminationKey:
    CODE: Final = "code"
    REASON: Final = "reason"
    MESSAGE: Final = "message"
    RESULT_SHA256: Final = "resultSha256"  # of the result's canonical JSON
    RESULT_BYTES: Final = "resultBytes"
    METRICS: Final = "metrics"  # MetricsDoc
    LOGS: Final = "logs"  # LogCounters
    # Optional: {type, message, traceback} of a failure (traceback shortened to fit).
    ERROR: Final = "error"
    # Optional: RFC 3339 time the user code started (for status.metrics.startupMs).
    STARTED_AT: Final = "startedAt"
    # Optional: the result itself when the whole message still fits; absent: read
    # the framed result line from the pod log.
    RESULT: Final = "result"


class MetricKey:
    EXECUTION_MS: Final = "executionMs"
    PEAK_RSS_BYTES: Final = "peakRssBytes"
    CPU_USER_SECONDS: Final = "cpuUserSeconds"
    CPU_SYSTEM_SECONDS: Final = "cpuSystemSeconds"


class ErrorKey:
    TYPE: Final = "type"
    MESSAGE: Final = "message"
    TRACEBACK: Final = "traceback"


class LogCounterKey:
    RECORDS: Final = "records"
    BYTES: Final = "bytes"
    BATCHES: Final = "batches"
    FAILED_BATCHES: Final = "failedBatches"
    DROPPED: Final = "dropped"


class MetricsDoc(TypedDict):
    executionMs: int
    peakRssBytes: int
    cpuUserSeconds: float
    cpuSystemSeconds: float


class ErrorDoc(TypedDict):
    type: str
    message: str
    traceback: str


class LogCounters(TypedDict):
    records: int
    bytes: int
    batches: int
    failedBatches: int
    dropped: int


class TerminationMessage(TypedDict, total=False):
    code: int
    reason: str
    message: str
    resultSha256: str
    resultBytes: int
    metrics: MetricsDoc
    logs: LogCounters
    error: ErrorDoc
    startedAt: str
    result: Any


METRIC_KEYS: Final = tuple(MetricsDoc.__annotations__)
LOGS_COUNTER_KEYS: Final = tuple(LogCounters.__annotations__)


def zero_log_counters() -> LogCounters:
    return LogCounters(records=0, bytes=0, batches=0, failedBatches=0, dropped=0)


_last_second: tuple[int, str] = (-1, "")


def rfc3339(epoch: float) -> str:
    """RFC 3339 UTC with microseconds, e.g. `2024-05-01T12:00:00.123456Z`."""
    global _last_second  # noqa: PLW0603 - one-entry cache: log lines mostly share their second
    seconds, micros = divmod(round(epoch * 1_000_000), 1_000_000)
    cached_second, prefix = _last_second
    if cached_second != seconds:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _last_second = (seconds, prefix)
    return f"{prefix}.{micros:06d}Z"
