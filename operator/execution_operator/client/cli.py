"""`execution` (also `kubectl execution`): run scripts as Executions, inspect them."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from ._cli_args import build_parser


def main(argv: Sequence[str] | None = None) -> None:
    plugin = os.path.basename(sys.argv[0]).startswith("kubectl-")
    args = build_parser("kubectl execution" if plugin else "execution").parse_args(argv)
    from ._commands import run  # noqa: PLC0415 - after parsing: --help stays fast

    sys.exit(run(args))
