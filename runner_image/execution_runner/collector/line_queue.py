"""The collector's queue: raw output lines waiting to be shipped, bounded in bytes.

`put` never blocks; a line that does not fit the bound (`max_bytes`) is dropped
and counted. One exception, with the BLOCK overflow policy (protocol.LogsOverflow)
while the backend accepts: a reader that paces itself by `ready()` (the runner
asks before every read and stops reading, so the code's writes wait, once it is
False) may finish the read in progress past the bound, by at most
BLOCK_SLACK_BYTES; so nothing is dropped while the backend is healthy. A caller
that never asks `ready()` gets the bound exactly. While the backend is down or
failing, and always with DROP, the reader is never held back. A line taken by
the shipping thread stays charged until it is compressed into a batch.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from typing import Final, NamedTuple

# Memory of one queued line beyond its text: tuple, float, deque slot, allocator rounding.
LINE_OVERHEAD_BYTES: Final = 128
# With BLOCK, how far past its bound the queue may grow for a reader that paces
# itself by ready() (one 64 KiB read of tiny lines is up to ~12 MiB charged). Past
# it, lines are dropped even with BLOCK, so memory stays bounded for any caller.
BLOCK_SLACK_BYTES: Final = 16 * 1024 * 1024


class QueuedLine(NamedTuple):
    arrival: float  # epoch seconds when the line was read
    stream: str
    line: str
    charged: int  # bytes counted against the bound


def charged_bytes(line: str) -> int:
    """What a queued line costs in memory (O(1): no copy of the text)."""
    return sys.getsizeof(line) + LINE_OVERHEAD_BYTES


class LineQueue:
    """FIFO of lines plus the lifecycle flags the shipping thread waits on."""

    def __init__(self, max_bytes: int, wake_bytes: int, block: bool = False) -> None:
        self.max_bytes = max_bytes
        self.block = block  # backpressure instead of drops while the backend accepts
        # False from a failed delivery attempt until the next delivered batch.
        self.backend_ok = True
        # Queued bytes that wake the shipping thread before the flush interval.
        self._wake_bytes = wake_bytes
        self.cond = threading.Condition()
        self._lines: deque[QueuedLine] = deque()
        self._queued_bytes = 0
        self.used_bytes = 0  # queued + taken and not yet compressed
        self.peak_bytes = 0
        self.taken_lines = 0  # taken for a batch, not yet resolved
        self.dropped = 0
        self.closing = False
        self.sealed = False  # counters are final; nothing changes any more
        self.paced = False  # the reader asks ready() (and so gets the slack)

    def put(self, stream: str, line: str) -> None:
        charged = charged_bytes(line)
        with self.cond:
            if self.sealed:
                return
            limit = self.max_bytes + (BLOCK_SLACK_BYTES if self._holding() and self.paced else 0)
            if self.used_bytes + charged > limit:
                self.dropped += 1
                return
            self._lines.append(QueuedLine(time.time(), stream, line, charged))
            before = self._queued_bytes
            self._queued_bytes += charged
            self.used_bytes += charged
            self.peak_bytes = max(self.peak_bytes, self.used_bytes)
            # Wake only on the transitions the shipper acts on, not on every line.
            if before == 0 or before < self._wake_bytes <= self._queued_bytes:
                self.cond.notify()

    def _holding(self) -> bool:
        return self.block and self.backend_ok

    def ready(self) -> bool:
        """False while the reader should wait: full, BLOCK policy, backend accepting.

        Read without the lock: a stale answer only shifts a pause by one read.
        """
        self.paced = True
        return not (self._holding() and self.used_bytes >= self.max_bytes)

    def take(self, limit: int) -> list[QueuedLine]:
        """Up to `limit` oldest queued lines, still charged until `release`."""
        with self.cond:
            count = min(limit, len(self._lines))
            taken = [self._lines.popleft() for _ in range(count)]
            self._queued_bytes -= sum(item.charged for item in taken)
            self.taken_lines += count
            return taken

    def release(self, charged: int) -> None:
        """Frees the bytes of taken lines once they are compressed into a batch."""
        with self.cond:
            self.used_bytes -= charged

    def resolve(self, lines: int) -> None:
        """Taken lines whose batch was delivered or given up."""
        with self.cond:
            self.taken_lines -= lines

    def queued_lines(self) -> int:
        with self.cond:
            return len(self._lines)

    def wait_ready(self, flush_interval: float) -> bool:
        """Waits until a batch is due; False once closing with nothing queued."""
        with self.cond:
            while True:
                if self._lines:
                    # Clamped: a wall-clock step must not postpone shipping.
                    due = min(self._lines[0].arrival + flush_interval - time.time(), flush_interval)
                    if self.closing or self._queued_bytes >= self._wake_bytes or due <= 0:
                        return True
                    self.cond.wait(due)
                elif self.closing:
                    return False
                else:
                    self.cond.wait()

    def pause(self, timeout: float) -> None:
        """Sleeps `timeout`, cut short only by the start of closing (not repeatedly after)."""
        with self.cond:
            if self.closing:
                self.cond.wait(timeout)  # nothing notifies once closing: a plain sleep
            else:
                self.cond.wait_for(lambda: self.closing, timeout)

    def begin_close(self) -> None:
        with self.cond:
            self.closing = True
            self.cond.notify_all()
