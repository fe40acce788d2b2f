"""What the controller remembers between the steps of one Execution, and nothing more.

Steps of one Execution run one at a time: an event that comes while a step of
its Execution runs is handed to the thread running it, which takes it next
(a worker never waits for another's step). Failed steps in a row set the
back-off; the start of each running step shows a hung worker. Every entry
lives only while a step runs or failures continue: memory follows the work in
flight, not every Execution ever seen.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from .cluster import Clock
from .locks import KeyedLocks

Key = tuple[str, str]
RETRY_SECONDS: Final = 1.0  # after a failed step (API error); doubles per failure in a row
RETRY_MAX_SECONDS: Final = 60.0


class StepTracker:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._locks = KeyedLocks()
        self._guard = threading.Lock()
        self._failures: dict[Key, int] = {}  # failed steps in a row
        self._running: dict[Key, float] = {}  # monotonic start of each running step
        # Keys a thread is taking steps of, with the events handed to it meanwhile.
        self._handed: dict[Key, deque[Any]] = {}

    def __len__(self) -> int:
        """Executions with anything remembered (a running step, or failures in a row)."""
        with self._guard:
            return len(self._locks) + len(self._failures) + len(self._handed)

    @contextmanager
    def step(self, key: Key) -> Iterator[None]:
        """Hold `key`'s lock for one step, its start on record while it runs."""
        with self._locks.hold(key):
            with self._guard:
                self._running[key] = self._clock.monotonic()
            try:
                yield
            finally:
                with self._guard:
                    del self._running[key]

    def take(self, key: Key, event: Any) -> bool:
        """True: the caller takes the steps of `key`, this event first, then `next` ones.

        False: another thread takes them; it was handed `event` to take next.
        """
        with self._guard:
            handed = self._handed.get(key)
            if handed is not None:
                handed.append(event)
                return False
            self._handed[key] = deque()
            return True

    def next(self, key: Key) -> Any | None:
        """The next event handed over for `key`; None (and `key` let go) when none is left."""
        with self._guard:
            handed = self._handed[key]
            if handed:
                return handed.popleft()
            del self._handed[key]
            return None

    def let_go(self, key: Key) -> None:
        """The taking thread is dying (e.g. an interpreter exit): events handed are dropped."""
        with self._guard:
            self._handed.pop(key, None)

    def waiting(self, key: Key) -> int:
        """Events of `key` handed over (or steps waiting) for after the one that runs."""
        with self._guard:
            handed = len(self._handed.get(key) or ())
        return handed + max(0, self._locks.users(key) - 1)

    def failed(self, key: Key) -> float:
        """Another failed step of `key`: the seconds to wait before the next (jittered)."""
        with self._guard:
            failures = self._failures[key] = self._failures.get(key, 0) + 1
        delay = min(RETRY_MAX_SECONDS, RETRY_SECONDS * 2.0 ** min(failures - 1, 16))
        jitter: float = random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret
        return delay * jitter

    def failures(self, key: Key) -> int:
        """Failed steps of `key` in a row so far."""
        with self._guard:
            return self._failures.get(key, 0)

    def succeeded(self, key: Key) -> None:
        with self._guard:
            self._failures.pop(key, None)

    forget = succeeded

    def stuck_for(self) -> float | None:
        """Seconds the oldest running step has taken so far; None when none runs."""
        with self._guard:
            began = min(self._running.values(), default=None)
        return None if began is None else self._clock.monotonic() - began
