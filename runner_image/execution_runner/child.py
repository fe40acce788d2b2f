"""The user process, forked from the runner: isolated, then handed to the bootstrap.

One interpreter start per run: the runner forks before it loads anything heavy,
and the child becomes what a fresh `python -I` with only the declared
environment would be: its own session, stdin at EOF, stdout/stderr the runner's
pipes, no other inherited descriptor, and an environment of only the declared
names. The runner's own environment (the log credentials, undeclared values) is
wiped from the child's memory, not just from `os.environ`: the initial
environment block that /proc/<pid>/environ shows and the interpreter's copies.
The rlimits are set by the bootstrap before any user code runs.
"""

from __future__ import annotations

import os
import sys

from execution_runner import bootstrap, libc, procs

# `typing` costs milliseconds of start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

# Fields 50 and 51 of /proc/<pid>/stat: where the initial environment block lies.
_ENV_START_FIELD = 50
# Exit status when the child cannot even reach the bootstrap (reported by the runner).
SETUP_FAILED = 127


class ChildSetup:
    """What the forked child needs; built by the runner before the fork."""

    __slots__ = ("code_path", "data", "env", "limits", "payload_type", "stderr", "stdout")

    def __init__(
        self,
        code_path: str,
        data: Any,
        payload_type: str | None,
        limits: list[tuple[str, int, int, int]],
        env: dict[str, str],
    ) -> None:
        self.code_path = code_path
        self.data = data
        self.payload_type = payload_type
        self.limits = limits
        self.env = env
        self.stdout = -1  # write ends of the runner's pipes, set by the supervisor
        self.stderr = -1


def _env_block() -> tuple[int, int]:
    # os-level reads: no io objects, fewer pages written (each a copy after the fork).
    fd = os.open("/proc/self/stat", os.O_RDONLY | os.O_CLOEXEC)
    try:
        fields = os.read(fd, 4096).rpartition(b") ")[2].split()
    finally:
        os.close(fd)
    # `fields` starts at field 3 (state).
    start = int(fields[_ENV_START_FIELD - 3])
    return start, int(fields[_ENV_START_FIELD - 2])


def _wipe_environment(env: dict[str, str]) -> None:
    """Replaces the runner's environment by `env`, erasing every old value from memory."""
    import posix  # noqa: PLC0415

    libc.check(libc.function("clearenv")(), "clearenv")
    start, end = _env_block()
    libc.memset_zero(start, end - start)
    # The interpreter's bytes copies (os.environ's storage); 0/1-byte objects are shared.
    offset = sys.getsizeof(b"") - 1
    for value in posix.environ.values():
        if len(value) > 1:
            libc.memset_zero(id(value) + offset, len(value))
    posix.environ.clear()
    os.environ.update(env)
    # The runner is non-dumpable (procs.harden_runner); nothing of its secrets is left
    # here, so the code gets an ordinary process whose /proc/self it can read.
    libc.prctl(procs.PR_SET_DUMPABLE, 1)


def _redirect(setup: ChildSetup, report_fd: int) -> None:
    """stdin at EOF, stdout/stderr to the runner, every other descriptor closed."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(setup.stdout, 1)
    os.dup2(setup.stderr, 2)
    os.closerange(3, report_fd)
    os.closerange(report_fd + 1, os.sysconf("SC_OPEN_MAX"))


def run_child(setup: ChildSetup, report_fd: int) -> NoReturn:
    """Runs in the forked child; never returns into the runner's code."""
    status = SETUP_FAILED
    ready = False
    try:
        os.setsid()
        _redirect(setup, report_fd)
        _wipe_environment(setup.env)
        tmpdir = setup.env.get("TMPDIR", "")
        if os.path.isdir(tmpdir):
            os.chdir(tmpdir)
        sys.dont_write_bytecode = True  # as `python -B`: the code's imports write no .pyc
        ready = True
        status = bootstrap.main(
            setup.code_path, report_fd, setup.limits, setup.data, setup.payload_type
        )
    except BaseException as exc:  # nothing may unwind into the runner's frames
        if not ready:  # before the bootstrap: the runner's failure, reported as such
            bootstrap.report_setup_failure(report_fd, f"the child setup failed: {exc!r}")
    finally:
        os._exit(status)
