"""Starting the child and watching it: pipes drained, timeout and SIGTERM enforced, all reaped.

One thread, one selector: the child's stdout, stderr and report pipe, its stdin
(the input, written without blocking) and a signalfd (SIGCHLD, SIGTERM, SIGINT
with their senders: signals.py). No preexec_fn: the rlimits are set by the bootstrap, which is
safe alongside the collector's threads and lets a bad limit be reported cleanly.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from execution_runner import procs
from execution_runner.limits import bootstrap_limits
from execution_runner.output import OutputRouter
from execution_runner.signals import SignalChannel
from execution_runner.streams import STDERR, STDOUT

# The child imports the bootstrap from its cached bytecode (compiled at image build)
# instead of compiling bootstrap.py as a script on every run; the package root is
# taken off sys.path again before the user code runs.
_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOOTSTRAP_START = (
    f"import sys; sys.path.insert(0, {_PACKAGE_ROOT!r}); "
    "from execution_runner.bootstrap import main; del sys.path[0]; sys.exit(main(sys.argv))"
)
READ_CHUNK = 64 * 1024
# After the child exits: how long leftovers may take to die and pipes to reach EOF.
CLEANUP_SECONDS = 2.0
# Upper bound of one wait, so a lost wake-up can never stall the loop.
MAX_WAIT_SECONDS = 0.5
# While the log sink holds the code's output back: how often to look for room again.
BACKPRESSURE_POLL_SECONDS = 0.005
TIMEOUT = "timeout"
CANCELLED = "cancelled"
# The code sent a stop signal to its runner: stopped, and a user outcome.
SIGNALLED_RUNNER = "signalledRunner"


class ChildExit:
    """How the child ended, as the runner saw it."""

    __slots__ = (
        "cause",
        "report",
        "report_overflow",
        "returncode",
        "runner_signal",
        "rusage",
        "started_at",
        "wall",
    )

    def __init__(self) -> None:
        self.returncode: int | None = None  # negative: killed by that signal
        self.rusage: Any = None  # resource.struct_rusage of the child and its reaped children
        # TIMEOUT, CANCELLED or SIGNALLED_RUNNER when the runner stopped it.
        self.cause: str | None = None
        # (signal, sender pid) of the first stop signal the code sent to the runner.
        self.runner_signal: tuple[int, int] | None = None
        self.report = bytearray()
        self.report_overflow = False
        self.started_at = 0.0  # epoch seconds
        self.wall = 0.0  # seconds from start to exit


class Supervisor:
    def __init__(
        self,
        signals: SignalChannel,
        router: OutputRouter,
        report_cap: int,
        timeout: float,
        kill_grace: float,
    ) -> None:
        self._signals = signals
        self._router = router
        self._report_cap = report_cap
        self._timeout = timeout
        self._grace = kill_grace
        self._selector = selectors.DefaultSelector()
        self._proc: subprocess.Popen[bytes] | None = None
        self._input = b""
        # How to close each watched fd: Popen's pipes through their file objects.
        self._closers: dict[int, Callable[[], None]] = {}
        # Output pipes not read for now (backpressure): the code's writes wait.
        self._paused: dict[int, str] = {}
        self.exit = ChildExit()

    def start(
        self, code_path: str, input_bytes: bytes, rlimits: dict[str, int], env: dict[str, str]
    ) -> None:
        report_read, report_write = os.pipe()
        tmpdir = env.get("TMPDIR", "")
        # -I: no user-chosen PYTHON* variable or file in the cwd steers the bootstrap.
        argv = [sys.executable, "-I", "-B", "-c", BOOTSTRAP_START, code_path, str(report_write)]
        argv.append(bootstrap_limits(rlimits))
        self.exit.started_at = time.time()
        self._started = time.monotonic()
        try:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                cwd=tmpdir if os.path.isdir(tmpdir) else None,
                start_new_session=True,
                pass_fds=(report_write,),
            )
        finally:
            os.close(report_write)
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        assert self._proc.stderr is not None
        self._input = input_bytes
        self._watch(self._proc.stdout.fileno(), STDOUT, self._proc.stdout.close)
        self._watch(self._proc.stderr.fileno(), STDERR, self._proc.stderr.close)
        self._watch(report_read, "report", lambda: os.close(report_read))
        self._watch(self._proc.stdin.fileno(), "stdin", self._proc.stdin.close)
        self._selector.register(self._signals.fd, selectors.EVENT_READ, "signals")

    def _watch(self, fd: int, tag: str, close: Callable[[], None]) -> None:
        os.set_blocking(fd, False)
        events = selectors.EVENT_WRITE if tag == "stdin" else selectors.EVENT_READ
        self._selector.register(fd, events, tag)
        self._closers[fd] = close

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def wait(self) -> ChildExit:
        """Runs until the child exited, its leftovers are dead and its pipes are drained."""
        deadline = self._started + self._timeout
        kill_at: float | None = None
        while self.exit.returncode is None:
            now = time.monotonic()
            if kill_at is None:
                if self._signals.stop_requested:
                    kill_at = self._stop(CANCELLED, now)
                elif self._signals.from_code:
                    self.exit.runner_signal = self._signals.from_code[0]
                    kill_at = self._stop(SIGNALLED_RUNNER, now)
                elif now >= deadline:
                    kill_at = self._stop(TIMEOUT, now)
            elif now >= kill_at:
                procs.signal_all(self.pid, signal.SIGKILL)
                kill_at = float("inf")
            next_event = deadline if kill_at is None else kill_at
            wait = min(max(0.0, next_event - now), MAX_WAIT_SECONDS)
            if not self._backpressure(kill_at is None):
                wait = min(wait, BACKPRESSURE_POLL_SECONDS)
            self._poll(wait)
            self._check_exit()
        self._backpressure(False)  # what is left in the pipes is read whatever the sink says
        # Nothing the code started outlives it, whether it finished or not.
        cleanup_deadline = time.monotonic() + CLEANUP_SECONDS
        procs.kill_all(self.pid, cleanup_deadline)
        while self._has_pipes() and time.monotonic() < cleanup_deadline:
            self._poll(max(0.0, cleanup_deadline - time.monotonic()))
        for key in list(self._selector.get_map().values()):
            self._close(key.fd, key.data)
        procs.reap_orphans()
        return self.exit

    def abort(self) -> None:
        """Emergency stop (the runner itself failed): kill everything, reap the child."""
        if self._proc is not None and self.exit.returncode is None:
            procs.signal_all(self.pid, signal.SIGKILL)
            self._proc.wait()
            procs.kill_all(self.pid, time.monotonic() + CLEANUP_SECONDS)

    def _backpressure(self, allowed: bool) -> bool:
        """Pauses or resumes reading the code's output; True when it is being read."""
        hold = allowed and not self._router.ready()
        if hold:
            for key in list(self._selector.get_map().values()):
                if key.data in (STDOUT, STDERR):
                    self._selector.unregister(key.fd)
                    self._paused[key.fd] = key.data
        else:
            for fd, tag in self._paused.items():
                self._selector.register(fd, selectors.EVENT_READ, tag)
            self._paused.clear()
        return not hold

    def _stop(self, cause: str, now: float) -> float:
        self.exit.cause = cause
        procs.signal_all(self.pid, signal.SIGTERM)
        return now + self._grace

    def _has_pipes(self) -> bool:
        return any(key.data != "signals" for key in self._selector.get_map().values())

    def _check_exit(self) -> None:
        assert self._proc is not None
        pid, status, rusage = os.wait4(self._proc.pid, os.WNOHANG)
        if pid == 0:
            return
        self.exit.wall = time.monotonic() - self._started
        self.exit.returncode = os.waitstatus_to_exitcode(status)
        self.exit.rusage = rusage
        self._proc.returncode = self.exit.returncode  # reaped here, not by Popen

    def _poll(self, timeout: float) -> None:
        for key, _ in self._selector.select(timeout):
            tag = key.data
            if tag == "signals":
                self._signals.drain(self.pid)
            elif tag == "stdin":
                self._write_input(key.fd)
            else:
                self._read(key.fd, tag)

    def _write_input(self, fd: int) -> None:
        try:
            written = os.write(fd, self._input[:READ_CHUNK])
        except BlockingIOError:
            return
        except OSError:  # the child exited without reading it all
            written = len(self._input)
        self._input = self._input[written:]
        if not self._input:
            self._close(fd, "stdin")

    def _read(self, fd: int, tag: str) -> None:
        try:
            chunk = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            return
        if not chunk:
            self._close(fd, tag)
        elif tag == "report":
            self._collect_report(chunk)
        else:
            self._router.feed(tag, chunk)

    def _collect_report(self, chunk: bytes) -> None:
        room = self._report_cap - len(self.exit.report)
        if len(chunk) > room:
            self.exit.report_overflow = True
        self.exit.report += chunk[: max(0, room)]

    def _close(self, fd: int, tag: str) -> None:
        self._selector.unregister(fd)
        if tag in (STDOUT, STDERR):
            self._router.finish(tag)
        if fd in self._closers:
            self._closers.pop(fd)()
