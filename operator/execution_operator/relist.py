"""The periodic relist: Executions that no watch event brought get a reconcile.

Watches can stall without an error (a proxy keeps the stream open, an event is lost);
an Execution created meanwhile would never start. Every few minutes the relist
reads every Execution the operator serves, page by page, and wakes the unfinished
ones; reconciling is idempotent, so waking one already in hand costs one GET.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any

from . import models
from .cluster import SYSTEM_CLOCK, Clock

logger = logging.getLogger(__name__)

RELIST_SECONDS = 300.0

Body = dict[str, Any]


def unfinished(executions: Iterable[Body]) -> Iterator[tuple[str, str]]:
    """(namespace, name) of each Execution whose current spec has not reached an end."""
    for execution in executions:
        meta = execution.get("metadata") or {}
        status = execution.get("status") or {}
        done = status.get("phase") in models.TERMINAL_PHASES
        current = status.get("observedGeneration") == meta.get("generation")
        if meta.get("deletionTimestamp") or (done and current):
            continue
        yield str(meta.get("namespace")), str(meta.get("name"))


class Relister:
    """Calls `wake(key, now)` for every unfinished Execution, every `interval` seconds."""

    def __init__(
        self,
        list_executions: Callable[[], Iterable[Body]],
        wake: Callable[[Hashable, float], None],
        *,
        clock: Clock = SYSTEM_CLOCK,
        paused: Callable[[], bool] = lambda: False,
        interval: float = RELIST_SECONDS,
    ) -> None:
        self._list = list_executions
        self._wake = wake
        self._clock = clock
        self._paused = paused
        self._interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="relist", daemon=True)

    def run_once(self) -> int:
        """One relist; the number of Executions woken (none while paused)."""
        if self._paused():
            return 0
        now = self._clock.now().timestamp()
        woken = 0
        for key in unfinished(self._list()):
            self._wake(key, now)
            woken += 1
        return woken

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _loop(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                woken = self.run_once()
            except Exception:  # the next round tries again; the watches do the main work
                logger.exception("relisting the Executions failed")
            else:
                logger.debug("relist woke %d unfinished Executions", woken)
