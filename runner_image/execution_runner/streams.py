"""The names of the code's two output streams, shared by the runner and the collector."""

from __future__ import annotations

# `typing` and `collections.abc` cost milliseconds of start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

STDOUT: Final = "stdout"
STDERR: Final = "stderr"
