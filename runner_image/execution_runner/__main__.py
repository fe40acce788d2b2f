"""Entry point of the runner image: `python -m execution_runner`."""

from __future__ import annotations

import os
import sys

from execution_runner.runner import run
from execution_runner.sink import collector_sink_factory

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn


def main() -> NoReturn:
    status = run(collector_sink_factory)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        # Everything is written; interpreter shutdown (module teardown) would only cost time.
        os._exit(status)


if __name__ == "__main__":
    main()
