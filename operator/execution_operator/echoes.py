"""The operator's own writes, until their watch events come back.

Each status write (and each pod created) must come back through the watches
within seconds. The event of a write tells nothing new when it is exactly that
write's (its resourceVersion), or from before a write that still awaits its
echo (the write was decided on a state at least as new): both are skipped. A
write whose event never comes shows a watch that is stuck (the liveness probe
fails). Entries live only until their event arrives.

Events are looked at inside the step lock of their Execution: every write of
an earlier step is noted by then, so no event can overtake its write.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .cluster import Clock

Key = tuple[str, str, str]  # (kind, namespace, name)


@dataclass(frozen=True)
class _Write:
    version: str | None
    at: float  # monotonic
    skippable: bool


def older(version: str, than: str) -> bool:
    """`version` is from before `than`; resourceVersions that are not numbers never are.

    The API server's resourceVersions are etcd revisions (increasing integers);
    anything else is treated as not older, which only costs a re-read.
    """
    if not (version.isdigit() and than.isdigit()):
        return False
    return int(version) < int(than)


class Echoes:
    """Writes awaiting their events, by object."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._guard = threading.Lock()
        self._pending: dict[Key, _Write] = {}

    def __len__(self) -> int:
        with self._guard:
            return len(self._pending)

    def wrote(self, key: Key, version: str | None, *, skippable: bool = False) -> None:
        """We changed `key` (to `version`): its event should follow."""
        with self._guard:
            self._pending[key] = _Write(version, self._clock.monotonic(), skippable)

    def event(self, key: Key, version: str | None) -> bool:
        """An event about `key` came; True when it tells nothing new: skip it.

        That is our skippable write's own event, or one older than the write
        awaited: every write is conditional on the resourceVersion it was decided
        on, so the step that made it had seen all that came before (the write
        stays awaited). A newer event ends the wait too (its echo was folded in).
        """
        with self._guard:
            write = self._pending.get(key)
            if write is None:
                return False
            if version is not None and write.version is not None and older(version, write.version):
                return True
            del self._pending[key]
        return write.skippable and version is not None and version == write.version

    def ahead_of(self, key: Key, version: str | None) -> bool:
        """A write of ours to `key` that has not come back is newer than `version`."""
        with self._guard:
            write = self._pending.get(key)
        if write is None:
            return False
        if version is None or write.version is None:
            return True
        return version != write.version and not older(write.version, version)

    def forget(self, key: Key) -> None:
        with self._guard:
            self._pending.pop(key, None)

    def oldest(self) -> float | None:
        """Seconds the oldest write has waited for its event; None when none waits."""
        with self._guard:
            at = min((w.at for w in self._pending.values()), default=None)
        return None if at is None else self._clock.monotonic() - at
