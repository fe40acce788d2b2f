"""The names of the code's two output streams, shared by the runner and the collector."""

from __future__ import annotations

from typing import Final

STDOUT: Final = "stdout"
STDERR: Final = "stderr"
