"""Process hygiene: hardening the runner, finding and killing every process the code started."""

from __future__ import annotations

import os
import time

from execution_runner import sigs

# `typing` and `collections.abc` cost milliseconds of start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36


def harden_runner() -> None:
    """Non-dumpable (the code cannot read /proc/<runner>/environ) and a child subreaper.

    As subreaper, processes the code daemonises (double fork, setsid) are
    re-parented to the runner instead of init, so they can still be found and killed.
    """
    from execution_runner import libc  # noqa: PLC0415  # stdlib has no prctl

    libc.prctl(PR_SET_DUMPABLE, 0)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1)


class ProcInfo:
    __slots__ = ("pgrp", "pid", "ppid", "session", "zombie")

    def __init__(self, pid: int, ppid: int, pgrp: int, session: int, zombie: bool) -> None:
        self.pid = pid
        self.ppid = ppid
        self.pgrp = pgrp
        self.session = session
        self.zombie = zombie


def parse_stat(text: str) -> ProcInfo:
    """One /proc/<pid>/stat line; the command name may contain spaces and parentheses."""
    pid_text, _, rest = text.partition(" (")
    fields = rest.rpartition(") ")[2].split()
    state, ppid, pgrp, session = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    return ProcInfo(int(pid_text), ppid, pgrp, session, zombie=state in ("Z", "X"))


def list_processes() -> list[ProcInfo]:
    infos = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    infos.append(parse_stat(handle.read()))
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
    return infos


def related_pids(
    infos: list[ProcInfo], runner_pid: int, child_pid: int, zombies: bool = False
) -> set[int]:
    """Live (or also zombie) processes of the child's group or session, or the runner's
    descendants."""
    children: dict[int, list[int]] = {}
    for info in infos:
        children.setdefault(info.ppid, []).append(info.pid)
    descendants: set[int] = set()
    stack = [runner_pid]
    while stack:
        for pid in children.get(stack.pop(), []):
            if pid not in descendants:
                descendants.add(pid)
                stack.append(pid)
    live = {
        info.pid
        for info in infos
        if (zombies or not info.zombie)
        and (info.pid in descendants or child_pid in (info.pgrp, info.session))
    }
    live.discard(runner_pid)
    return live


def signal_all(child_pid: int, sig: int) -> int:
    """Signals the child's group and every related process; returns how many were alive."""
    _send(os.killpg, child_pid, sig)
    pids = related_pids(list_processes(), os.getpid(), child_pid)
    for pid in pids:
        _send(os.kill, pid, sig)
    return len(pids)


def _send(kill: Callable[[int, int], None], target: int, sig: int) -> None:
    try:  # noqa: SIM105  # contextlib costs start-up
        kill(target, sig)
    except (ProcessLookupError, PermissionError):
        pass  # gone meanwhile, or not ours


def reap_orphans() -> bool:
    """Collects exited processes re-parented to the runner (call after the child is reaped);
    True while the runner still has children."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True


def kill_all(child_pid: int, deadline: float) -> bool:
    """SIGKILLs until nothing related is alive (a fork bomb keeps forking); False on deadline."""
    # The runner is a subreaper: every live process the code started descends from it,
    # so no children at all means nothing to kill (and no scan of every process).
    if not reap_orphans():
        return True
    while signal_all(child_pid, sigs.SIGKILL):
        reap_orphans()
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)
    reap_orphans()
    return True


def oom_kill_count() -> int | None:
    """The cgroup v2 `oom_kill` counter of the runner's cgroup, or None if unavailable."""
    try:
        with open("/proc/self/cgroup") as handle:
            path = next(line[3:].strip() for line in handle if line.startswith("0::"))
        with open(f"/sys/fs/cgroup{path.rstrip('/')}/memory.events") as handle:
            for line in handle:
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
    except (OSError, StopIteration, ValueError):
        return None
    return None
