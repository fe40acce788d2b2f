"""Memory diagnostics: on SIGUSR2 the operator logs what holds its memory.

Always: the process's RSS and the live Python objects by type. With tracemalloc
on (start the operator with `PYTHONTRACEMALLOC=25`), also the total Python
allocations and the lines that allocated most of what is still alive. The
gap between RSS and the traced total is the allocator's (free memory it keeps)
and the C libraries'.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import signal
import threading
import tracemalloc
from collections import Counter
from pathlib import Path
from types import FrameType

logger = logging.getLogger(__name__)

TOP = 25
DUMP_SIGNAL = signal.SIGUSR2
# Objects over 512 bytes (bodies, watch lines) come from the C heap, which keeps freed
# pages until trimmed. Small ones stay with Python's allocator: denser, and with no
# backlog of events held any more, it kept less than the C heap did (see CHANGELOG).
TRIM_SECONDS = 15.0


def _glibc() -> ctypes.CDLL | None:
    """The C library if it is glibc (it has malloc_trim), else None (e.g. musl)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


_libc = _glibc()


def trim() -> bool:
    """Gives the C heap's free pages back to the system; True if any were released."""
    return _libc is not None and bool(_libc.malloc_trim(0))


class Trimmer:
    """Trims the C heap every `interval` seconds: a burst's freed memory leaves the RSS."""

    def __init__(self, interval: float = TRIM_SECONDS) -> None:
        self._interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="malloc-trim", daemon=True)

    def start(self) -> None:
        if _libc is not None:
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _loop(self) -> None:
        while not self._stopped.wait(self._interval):
            trim()


def rss_mib() -> float:
    """This process's resident set, in MiB (0 where /proc is not there)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def object_counts(top: int = TOP) -> list[tuple[str, int]]:
    """The most numerous live objects tracked by the garbage collector, by type name."""
    counts = Counter(type(obj).__qualname__ for obj in gc.get_objects())
    return counts.most_common(top)


def report(top: int = TOP) -> str:
    lines = [f"memory: RSS {rss_mib():.1f} MiB"]
    if tracemalloc.is_tracing():
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        stats = snapshot.statistics("lineno")
        total = sum(stat.size for stat in stats)
        lines.append(f"traced Python allocations {total / 2**20:.1f} MiB in {len(stats)} lines")
        lines += [f"  {s.size / 1024:9.1f} KiB {s.count:8d} {s.traceback}" for s in stats[:top]]
    else:
        lines.append("tracemalloc is off (set PYTHONTRACEMALLOC=25 for allocations by line)")
    lines.append("live objects by type:")
    lines += [f"  {count:9d} {name}" for name, count in object_counts(top)]
    return "\n".join(lines)


def _dump(signum: int, frame: FrameType | None) -> None:
    del signum, frame
    logger.warning("%s", report())


def install() -> None:
    """Log `report()` whenever the process gets SIGUSR2 (main thread only)."""
    signal.signal(DUMP_SIGNAL, _dump)
