"""runner.json rlimits as the child's bootstrap applies them: (name, resource, soft, hard)."""

from __future__ import annotations

import resource

from execution_runner.protocol import RlimitKey

# `typing` and `collections.abc` cost milliseconds of start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

# Seconds between the CPU soft limit (SIGXCPU, reported) and the hard one (SIGKILL).
CPU_HARD_MARGIN_SECONDS: Final = 1
RESOURCES: Final = {
    RlimitKey.STACK: resource.RLIMIT_STACK,
    RlimitKey.MEMORY: resource.RLIMIT_AS,
    RlimitKey.CPU_SECONDS: resource.RLIMIT_CPU,
    RlimitKey.OPEN_FILES: resource.RLIMIT_NOFILE,
    RlimitKey.PROCESSES: resource.RLIMIT_NPROC,
    RlimitKey.FILE_SIZE: resource.RLIMIT_FSIZE,
}


def bootstrap_limits(rlimits: dict[str, int]) -> list[tuple[str, int, int, int]]:
    """(name, resource, soft, hard) for bootstrap.apply_rlimits: soft = hard for each
    limit, CPU hard a little higher."""
    entries = []
    for name, value in rlimits.items():
        hard = value + CPU_HARD_MARGIN_SECONDS if name == RlimitKey.CPU_SECONDS else value
        entries.append((name, RESOURCES[name], value, hard))
    return entries
