"""Starting the child and watching it: pipes drained, timeout and SIGTERM enforced, all reaped.

The child is forked (child.py): one interpreter start per run. One thread, one
poll set: the child's stdout, stderr and report pipe and a signalfd (SIGCHLD,
SIGTERM, SIGINT with their senders: signals.py). The fork happens before the
log collector starts any thread.
"""

from __future__ import annotations

import gc
import os
import select
import sys
import time

from execution_runner import procs, sigs
from execution_runner.child import ChildSetup, run_child
from execution_runner.streams import STDERR, STDOUT

# `typing` costs milliseconds of start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from execution_runner.output import OutputRouter
    from execution_runner.signals import SignalChannel

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
REPORT = "report"
SIGNALS = "signals"
_READABLE = select.POLLIN | select.POLLHUP | select.POLLERR


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
        report_cap: int,
        timeout: float,
        kill_grace: float,
    ) -> None:
        self._signals = signals
        self._report_cap = report_cap
        self._timeout = timeout
        self._grace = kill_grace
        self._poll_set = select.poll()
        # Watched fds and what they are (STDOUT, STDERR, REPORT, SIGNALS).
        self._watched: dict[int, str] = {}
        # Output pipes not read for now (backpressure): the code's writes wait.
        self._paused: dict[int, str] = {}
        self._pid = 0
        self.exit = ChildExit()

    def start(self, setup: ChildSetup) -> None:
        """Forks the child; it runs `setup` while the runner prepares the rest."""
        out_read, setup.stdout = os.pipe()
        err_read, setup.stderr = os.pipe()
        report_read, report_write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        self.exit.started_at = time.time()
        self._started = time.monotonic()
        # Pre-fork objects out of the collector's reach: a collection in either process
        # would otherwise write to every object's header and copy each page (copy-on-write).
        gc.freeze()
        try:
            pid = os.fork()
            if pid == 0:
                run_child(setup, report_write)
        finally:
            for fd in (setup.stdout, setup.stderr, report_write):
                os.close(fd)
        self._pid = pid
        self._watch(out_read, STDOUT)
        self._watch(err_read, STDERR)
        self._watch(report_read, REPORT)
        self._watch(self._signals.fd, SIGNALS)

    def _watch(self, fd: int, tag: str) -> None:
        os.set_blocking(fd, False)
        self._poll_set.register(fd, _READABLE)
        self._watched[fd] = tag

    @property
    def pid(self) -> int:
        return self._pid

    def wait(self, router: OutputRouter) -> ChildExit:
        """Runs until the child exited, its leftovers are dead and its pipes are drained."""
        self._router = router
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
                procs.signal_all(self.pid, sigs.SIGKILL)
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
        for fd, tag in list(self._watched.items()):
            self._close(fd, tag)
        procs.reap_orphans()
        return self.exit

    def abort(self) -> None:
        """Emergency stop (the runner itself failed): kill everything, reap the child."""
        if self._pid and self.exit.returncode is None:
            procs.signal_all(self.pid, sigs.SIGKILL)
            os.waitpid(self.pid, 0)
            procs.kill_all(self.pid, time.monotonic() + CLEANUP_SECONDS)

    def _backpressure(self, allowed: bool) -> bool:
        """Pauses or resumes reading the code's output; True when it is being read."""
        hold = allowed and not self._router.ready()
        if hold:
            for fd, tag in list(self._watched.items()):
                if tag in (STDOUT, STDERR):
                    self._poll_set.unregister(fd)
                    del self._watched[fd]
                    self._paused[fd] = tag
        else:
            for fd, tag in self._paused.items():
                self._poll_set.register(fd, _READABLE)
                self._watched[fd] = tag
            self._paused.clear()
        return not hold

    def _stop(self, cause: str, now: float) -> float:
        self.exit.cause = cause
        procs.signal_all(self.pid, sigs.SIGTERM)
        return now + self._grace

    def _has_pipes(self) -> bool:
        return any(tag != SIGNALS for tag in self._watched.values())

    def _check_exit(self) -> None:
        pid, status, rusage = os.wait4(self.pid, os.WNOHANG)
        if pid == 0:
            return
        self.exit.wall = time.monotonic() - self._started
        self.exit.returncode = os.waitstatus_to_exitcode(status)
        self.exit.rusage = rusage

    def _poll(self, timeout: float) -> None:
        for fd, _ in self._poll_set.poll(timeout * 1000):
            tag = self._watched.get(fd)
            if tag == SIGNALS:
                self._signals.drain(self.pid)
            elif tag is not None:
                self._read(fd, tag)

    def _read(self, fd: int, tag: str) -> None:
        try:
            chunk = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            return
        if not chunk:
            self._close(fd, tag)
        elif tag == REPORT:
            self._collect_report(chunk)
        else:
            self._router.feed(tag, chunk)

    def _collect_report(self, chunk: bytes) -> None:
        room = self._report_cap - len(self.exit.report)
        if len(chunk) > room:
            self.exit.report_overflow = True
        self.exit.report += chunk[: max(0, room)]

    def _close(self, fd: int, tag: str) -> None:
        self._poll_set.unregister(fd)
        del self._watched[fd]
        if tag in (STDOUT, STDERR):
            self._router.finish(tag)
        if tag != SIGNALS:
            os.close(fd)  # the signalfd is the channel's
