"""Where the runner hands the user code's output lines: the log collector's interface."""

from __future__ import annotations

from execution_runner import protocol

# `typing` and `collections.abc` cost milliseconds of start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Protocol

    from execution_runner.config import RunnerConfig
    from execution_runner.protocol import LogCounters
    from execution_runner.redact import Redactor

    class LogSink(Protocol):
        def start(self) -> None:
            """Begins shipping (a background thread)."""

        def add(self, stream: str, line: str) -> None:
            """`stream` is "stdout" or "stderr"; `line` is redacted, without newline.

            Thread-safe, non-blocking, never raises.
            """

        def ready(self) -> bool:
            """False while the runner should stop reading the code's output (backpressure)."""
            ...

        def close(self, deadline_seconds: float) -> LogCounters:
            """Final flush within the deadline; returns the counters."""
            ...

    # Called once the child has started, so a collector's imports do not delay the code.
    SinkFactory = Callable[["RunnerConfig", "Redactor"], LogSink]


class NullSink:
    """Ships nothing (lines are still mirrored by the runner); counters stay zero."""

    def start(self) -> None:
        pass

    def add(self, stream: str, line: str) -> None:
        pass

    def ready(self) -> bool:
        return True

    def close(self, deadline_seconds: float) -> LogCounters:
        return protocol.zero_log_counters()


def collector_sink_factory(config: RunnerConfig, redact: Redactor) -> LogSink:
    """The log collector, identified by the Execution and this pod (none when not shipping)."""
    if not config.logs.shipping:
        return NullSink()  # the collector's modules are never imported
    import os  # noqa: PLC0415 - imported once the child runs, off the start-up path

    from execution_runner.collector.log_collector import LogCollector  # noqa: PLC0415

    identity = {
        **config.execution,
        "pod": os.environ.get(protocol.POD_NAME_ENV, ""),
        "node": os.environ.get(protocol.NODE_NAME_ENV, ""),
    }
    return LogCollector(
        config.logs,
        identity,
        redact,
        os.environ.get(protocol.LOGS_API_KEY_ENV),
        os.environ.get(protocol.LOGS_WORKSPACE_ENV),
    )
