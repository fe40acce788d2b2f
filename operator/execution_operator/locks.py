"""One lock per key, kept only while someone holds or waits for it.

The controller serialises the steps of one Execution; a lock per Execution kept
forever would grow with every Execution ever seen, so an entry lives only as
long as a step of its Execution is running or waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager


class KeyedLocks:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        # key -> (lock, how many threads hold or wait for it)
        self._entries: dict[Hashable, tuple[threading.Lock, int]] = {}

    def __len__(self) -> int:
        with self._guard:
            return len(self._entries)

    def users(self, key: Hashable) -> int:
        """Threads holding or waiting for `key`'s lock."""
        with self._guard:
            return self._entries.get(key, (None, 0))[1]

    @contextmanager
    def hold(self, key: Hashable) -> Iterator[None]:
        with self._guard:
            lock, users = self._entries.get(key) or (threading.Lock(), 0)
            self._entries[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._entries[key]
                if users == 1:
                    del self._entries[key]
                else:
                    self._entries[key] = (lock, users - 1)
