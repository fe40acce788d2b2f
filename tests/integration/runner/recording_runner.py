"""The runner with a sink that records every line it gets (to a file, at close)."""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING

from execution_runner.runner import run

if TYPE_CHECKING:
    from execution_runner.config import RunnerConfig
    from execution_runner.redact import Redactor
    from execution_runner.sink import LogSink

RECORD_FILE_ENV = "RECORDING_SINK_FILE"


class RecordingSink:
    def __init__(self, path: str, execution: dict[str, str]) -> None:
        self.path = path
        self.execution = execution
        self.started = False
        self.lines: list[list[str]] = []

    def start(self) -> None:
        self.started = True

    def add(self, stream: str, line: str) -> None:
        self.lines.append([stream, line])

    def ready(self) -> bool:
        return True

    def close(self, deadline_seconds: float) -> dict[str, int]:
        with open(self.path, "w") as handle:
            json.dump(
                {"started": self.started, "lines": self.lines, "execution": self.execution}, handle
            )
        size = sum(len(line) for _, line in self.lines)
        return {
            "records": len(self.lines),
            "bytes": size,
            "batches": 1,
            "failedBatches": 0,
            "dropped": 0,
        }


def recording_factory(config: RunnerConfig, redact: Redactor) -> LogSink:
    return RecordingSink(os.environ[RECORD_FILE_ENV], config.execution)


if __name__ == "__main__":
    sys.exit(run(recording_factory))
