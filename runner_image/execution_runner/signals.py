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

import ctypes
import os
import struct

from execution_runner import procs, sigs

# `typing` costs milliseconds of start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

STOP_SIGNALS: Final = (sigs.SIGTERM, sigs.SIGINT)
WATCHED: Final = (sigs.SIGCHLD, *STOP_SIGNALS)
_SFD_NONBLOCK: Final = os.O_NONBLOCK
_SFD_CLOEXEC: Final = os.O_CLOEXEC
_SIGINFO_BYTES: Final = 128  # sizeof(struct signalfd_siginfo)
# ssi_signo, ssi_errno, ssi_code, ssi_pid, ssi_uid
_SIGINFO_HEAD: Final = struct.Struct("=IiiII")


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
        libc = ctypes.CDLL(None, use_errno=True)
        mask = ctypes.create_string_buffer(_SIGINFO_BYTES)  # sigset_t fits in 128 bytes
        libc.sigemptyset(mask)
        for sig in WATCHED:
            libc.sigaddset(mask, int(sig))
        fd = libc.signalfd(-1, mask, _SFD_NONBLOCK | _SFD_CLOEXEC)
        if fd < 0:
            error = ctypes.get_errno()
            raise OSError(error, f"signalfd failed: {os.strerror(error)}")
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
                signo, _, _, pid, uid = _SIGINFO_HEAD.unpack_from(data, offset)
                records.append(Received(signo, pid, uid))

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
