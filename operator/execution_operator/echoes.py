"""The operator's own writes, until their watch events come back.

Each status write (and each pod created) must come back through the watches
within seconds. The event of a non-terminal status write tells nothing new and
is skipped; a write whose event never comes shows a watch that is stuck (the
liveness probe fails). Entries live only until their event arrives.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .cluster import Clock

Key = tuple[str, str, str]  # (kind, namespace, name)
Owner = tuple[str, str]  # the Execution's (namespace, name)


@dataclass(frozen=True)
class _Write:
    version: str | None
    at: float  # monotonic
    skippable: bool


class Echoes:
    """Writes awaiting their events, by object; each belongs to one Execution (`owner`)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._guard = threading.Lock()
        self._pending: dict[Key, _Write] = {}
        # Events that came during a step of their owner, before the step could note
        # the write they echo (the watch can beat the write's own response).
        self._early: dict[Owner, dict[Key, str | None]] = {}

    def __len__(self) -> int:
        with self._guard:
            return len(self._pending)

    def begin(self, owner: Owner) -> None:
        """A step of `owner` starts: its writes' events may come before they are noted."""
        with self._guard:
            self._early[owner] = {}

    def end(self, owner: Owner) -> None:
        with self._guard:
            self._early.pop(owner, None)

    def wrote(
        self, owner: Owner, key: Key, version: str | None, *, skippable: bool = False
    ) -> None:
        """We changed `key` (to `version`): its event should follow."""
        with self._guard:
            early = self._early.get(owner, {})
            if key in early and early.pop(key) == version:
                return  # its event has come already
            self._pending[key] = _Write(version, self._clock.monotonic(), skippable)

    def event(self, owner: Owner, key: Key, version: str | None) -> bool:
        """An event about `key` came; True when it is exactly our skippable write's."""
        with self._guard:
            write = self._pending.pop(key, None)
            if write is None and owner in self._early:
                self._early[owner][key] = version
        return write is not None and write.skippable and version == write.version

    def forget(self, key: Key) -> None:
        with self._guard:
            self._pending.pop(key, None)

    def oldest(self) -> float | None:
        """Seconds the oldest write has waited for its event; None when none waits."""
        with self._guard:
            at = min((w.at for w in self._pending.values()), default=None)
        return None if at is None else self._clock.monotonic() - at
