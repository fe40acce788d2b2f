"""Entry point of the runner image: `python -m execution_runner`."""

from __future__ import annotations

import sys

from execution_runner.runner import run
from execution_runner.sink import collector_sink_factory

if __name__ == "__main__":
    sys.exit(run(collector_sink_factory))
