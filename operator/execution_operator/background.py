"""Work off the reconcile path: wake-ups at a given time, and calls in the background.

Wake-ups serve start deadlines and TTLs without a finalizer per Execution.

kopf timers and daemons need a finalizer on every object, which would block
deleting Executions while the operator is down; one thread and a heap do not.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
from collections.abc import Callable, Hashable

from .cluster import SYSTEM_CLOCK, Clock

logger = logging.getLogger(__name__)

STALE_SLACK = 64  # stale heap entries tolerated beyond as many as there are live ones


class Wakeups:
    """Calls `callback(key)` once at (or soon after) the latest time asked for `key`.

    Times are given as wall-clock (deadlines come from API timestamps) and kept on
    the monotonic clock, so a clock step cannot fire or delay them all at once.
    """

    def __init__(
        self,
        callback: Callable[[Hashable], None],
        *,
        clock: Clock = SYSTEM_CLOCK,
        paused: Callable[[], bool] = lambda: False,
    ) -> None:
        self._callback = callback
        self._clock = clock
        # While this replica is paused (peering), due keys are dropped: the active
        # replica has them too, from its own watch events.
        self._paused = paused
        self._busy_since: float | None = None
        self._heap: list[tuple[float, int, Hashable]] = []
        self._due: dict[Hashable, float] = {}
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="wakeups", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def stuck_for(self) -> float | None:
        """Seconds the thread has been gone or inside one callback; None when healthy."""
        if not self._thread.is_alive():
            return float("inf") if not self._stopped else None
        busy = self._busy_since
        return None if busy is None else self._clock.monotonic() - busy

    def at(self, key: Hashable, when: float) -> None:
        """Wake `key` at wall-clock time `when` (like time.time()); an earlier ask wins."""
        when = self._clock.monotonic() + (when - self._clock.now().timestamp())
        with self._cond:
            if key in self._due and self._due[key] <= when:
                return
            self._due[key] = when
            heapq.heappush(self._heap, (when, next(self._counter), key))
            self._cond.notify()

    def cancel(self, key: Hashable) -> None:
        """Forget `key`'s wake-up (its object is gone); its heap entry goes stale."""
        with self._cond:
            if self._due.pop(key, None) is None:
                return
            # Stale entries would otherwise stay until their time (a TTL: days).
            if len(self._heap) > 2 * len(self._due) + STALE_SLACK:
                self._heap = [e for e in self._heap if self._due.get(e[2]) == e[0]]
                heapq.heapify(self._heap)

    def __len__(self) -> int:
        with self._cond:
            return len(self._due)

    def queued(self) -> int:
        """Heap entries, stale ones included."""
        with self._cond:
            return len(self._heap)

    def take_due(self) -> tuple[Hashable | None, float | None]:
        """A due key (popped), else None and the seconds until the next (None: nothing)."""
        with self._cond:
            while self._heap:
                when, _, key = self._heap[0]
                delay = when - self._clock.monotonic()
                if delay > 0:
                    return None, delay
                heapq.heappop(self._heap)
                if self._due.get(key) == when:  # else superseded by an earlier ask
                    del self._due[key]
                    return key, None
            return None, None

    def fire(self, key: Hashable) -> None:
        """Call back for `key` unless paused; a failure is logged, never raised."""
        if self._paused():
            logger.info("paused (peering): wake-up of %s left to the active replica", key)
            return
        self._busy_since = self._clock.monotonic()
        try:
            self._callback(key)
        except Exception:
            logger.exception("wake-up of %s failed", key)
        finally:
            self._busy_since = None

    def _next_due(self) -> Hashable | None:
        with self._cond:
            while not self._stopped:
                key, delay = self.take_due()
                if key is not None:
                    return key
                self._cond.wait(timeout=delay)
            return None

    def _loop(self) -> None:
        while (key := self._next_due()) is not None:
            self.fire(key)


class Background:
    """Runs calls on threads of its own, so callers never wait on them."""

    def __init__(self, name: str, *, threads: int = 1, limit: int = 10_000) -> None:
        self._queue: queue.Queue[Callable[[], None]] = queue.Queue(maxsize=limit)
        self._threads = [
            threading.Thread(target=self._loop, name=f"{name}-{n}", daemon=True)
            for n in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def __len__(self) -> int:
        """Calls waiting for a thread."""
        return self._queue.qsize()

    def submit(self, call: Callable[[], None]) -> None:
        try:
            self._queue.put_nowait(call)
        except queue.Full:  # a courtesy (an Event) is dropped rather than stall reconciling
            logger.warning("background queue full; dropping a call")

    def _loop(self) -> None:
        while True:
            call = self._queue.get()
            try:
                call()
            except Exception:
                logger.exception("background call failed")
            finally:
                self._queue.task_done()

    def join(self) -> None:
        """Wait until every call submitted so far has run."""
        self._queue.join()
