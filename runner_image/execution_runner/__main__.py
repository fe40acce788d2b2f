"""Entry point of the runner image: `python -m execution_runner`."""

from __future__ import annotations

import os
import sys

from execution_runner.runner import run

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

    from execution_runner.config import RunnerConfig
    from execution_runner.redact import Redactor
    from execution_runner.sink import LogSink


def _sink(config: RunnerConfig, redact: Redactor) -> LogSink:
    # Called once the child runs: the sink's module loads off the start-up path.
    from execution_runner.sink import collector_sink_factory  # noqa: PLC0415

    return collector_sink_factory(config, redact)


def main() -> NoReturn:
    status = run(_sink)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        # Everything is written; interpreter shutdown (module teardown) would only cost time.
        os._exit(status)


if __name__ == "__main__":
    main()
