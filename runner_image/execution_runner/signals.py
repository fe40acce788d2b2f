"""Signals with their sender: SIGCHLD, SIGTERM and SIGINT read from a signalfd.

A Python signal handler cannot tell who sent a signal; a signalfd can. The
signals are blocked (in every thread: this runs before any thread starts) and
read as `signalfd_siginfo` records from a non-blocking fd the selector watches.
The child unblocks them again (bootstrap) before the user code runs.

Who may stop the run: in a pod the runner is PID 1 of the container's pid
namespace, so a signal from outside the pod (the kubelet, through the container
runtime) arrives with sender pid 0, and any other sender is a process inside
the pod, i.e. the code. Outside a pid namespace (tests, development) a sender counts as
outside when it runs as another uid, or is alive and not one of the code's
processes.
"""

from __future__ import annotations

import os
import sys

from execution_runner import libc, procs, sigs

# `typing` costs milliseconds of start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

STOP_SIGNALS: Final = (sigs.SIGTERM, sigs.SIGINT)
WATCHED: Final = (sigs.SIGCHLD, *STOP_SIGNALS)
_SFD_NONBLOCK: Final = os.O_NONBLOCK
_SFD_CLOEXEC: Final = os.O_CLOEXEC
_SIGINFO_BYTES: Final = 128  # sizeof(struct signalfd_siginfo)
# Byte offsets of ssi_signo, ssi_pid and ssi_uid (u32 each) in a signalfd_siginfo.
_SSI_SIGNO: Final = 0
_SSI_PID: Final = 12
_SSI_UID: Final = 16
_SIGSET_BYTES: Final = 128  # glibc's sigset_t; the kernel reads its first word
_SIGSET_WORD_BYTES: Final = 8  # an unsigned long (LP64): signals 1-64


def _u32(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 4], sys.byteorder)


def sigset(signals: tuple[int, ...]) -> bytes:
    """A sigset_t with `signals`: bit (n - 1) of its first, native-endian word."""
    bits = 0
    for sig in signals:
        bits |= 1 << (sig - 1)
    return bits.to_bytes(_SIGSET_WORD_BYTES, sys.byteorder).ljust(_SIGSET_BYTES, b"\0")


class Received:
    __slots__ = ("pid", "signo", "uid")

    def __init__(self, signo: int, pid: int, uid: int) -> None:
        self.signo = signo
        self.pid = pid  # 0: from outside the runner's pid namespace (or the kernel)
        self.uid = uid


class SignalChannel:
    """SIGCHLD/SIGTERM/SIGINT as records on an fd; `stop` is set by an outside stop signal."""

    def __init__(self) -> None:
        sigs.block(WATCHED)
        fd = libc.function("signalfd")(-1, sigset(WATCHED), _SFD_NONBLOCK | _SFD_CLOEXEC)
        libc.check(fd, "signalfd")
        self.fd: int = fd
        self.stop_requested = False
        # Stop signals the code sent to the runner: (signal number, sender pid).
        self.from_code: list[tuple[int, int]] = []

    def read(self) -> list[Received]:
        records: list[Received] = []
        while True:
            try:
                data = os.read(self.fd, _SIGINFO_BYTES * 16)
            except BlockingIOError:
                return records
            for offset in range(0, len(data) - _SIGINFO_BYTES + 1, _SIGINFO_BYTES):
                field = data[offset : offset + _SIGINFO_BYTES]
                records.append(
                    Received(_u32(field, _SSI_SIGNO), _u32(field, _SSI_PID), _u32(field, _SSI_UID))
                )

    def drain(self, child_pid: int | None) -> None:
        """Reads pending signals; a stop signal counts as a stop or as the code's doing."""
        for received in self.read():
            if received.signo not in STOP_SIGNALS:
                continue  # SIGCHLD only wakes the loop
            if from_outside(received, child_pid):
                self.stop_requested = True
            else:
                self.from_code.append((received.signo, received.pid))


def from_outside(received: Received, child_pid: int | None) -> bool:
    """True when the sender is not the code (see the module's docstring)."""
    if received.pid == 0:
        return True
    if os.getpid() == 1:
        return False  # every process in the pod's pid namespace is the code's
    if child_pid is None or received.uid != os.getuid():
        return True  # no code yet, or a sender the code cannot be (it runs as our uid)
    infos = procs.list_processes()
    if all(info.pid != received.pid for info in infos):
        return False  # gone already: a short-lived process of the code, most likely
    # Zombies too: the code's process may have exited right after sending.
    related = procs.related_pids(infos, os.getpid(), child_pid, zombies=True)
    return received.pid not in related
