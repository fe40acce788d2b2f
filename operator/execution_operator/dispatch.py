"""Watch events to reconciles: a compact queue per Execution, worked off by our own threads.

kopf keeps one coroutine, Context and whole body per event until a handler
thread is free; in a burst that is tens of thousands of each. Here the handlers
only note what an event says and return. Per Execution the queue keeps the
newest body, per pod the newest body (a deletion is never dropped or overtaken),
as compact JSON: memory follows the Executions waiting, not the events. A key
waits in the FIFO once however many events it gets, and is taken by one thread
at a time; the controller is level-triggered, so the newest state is enough.
Due wake-ups (deadlines, TTLs, back-off, the relist) are queued the same way.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .cluster import SYSTEM_CLOCK, Clock
from .controller import Controller
from .decisions import PodHint
from .known import pack

logger = logging.getLogger(__name__)

Key = tuple[str, str]  # the Execution's (namespace, name)
Body = dict[str, Any]


@dataclass(slots=True)
class _Work:
    """What the events of one Execution said since a thread last took it."""

    since: float  # monotonic, when first queued
    deleted: bool = False  # the Execution was deleted: forget it before anything else
    wake: bool = False  # a wake-up (deadline, TTL, back-off, relist): any reconcile does
    uid: str | None = None
    body: bytes | None = None
    # Per pod: its newest body, after a deletion when one came first (None: deleted).
    pods: dict[str, list[bytes | None]] = field(default_factory=dict)


class Dispatcher:
    """Queues events per Execution; `threads` threads reconcile them, one key at a time."""

    def __init__(
        self,
        controller: Controller,
        cancel: Callable[[Hashable], None],
        *,
        threads: int,
        paused: Callable[[], bool] = lambda: False,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._controller = controller
        self._cancel = cancel  # a deleted Execution's wake-up
        self._paused = paused
        self._clock = clock
        self._cond = threading.Condition()
        self._queued: dict[Key, _Work] = {}
        # Keys with work and no thread on them, each once, oldest first.
        self._order: deque[Key] = deque()
        self._running: set[Key] = set()
        self._stopped = False
        self._threads = [
            threading.Thread(target=self._loop, name=f"dispatch-{n}", daemon=True)
            for n in range(threads)
        ]

    # --- what the handlers call (in kopf's event loop: never blocks) -------------------

    def execution(self, namespace: str, name: str, body: Mapping[str, Any]) -> None:
        """An Execution's event: its body supersedes any queued one."""
        packed = pack(body)
        with self._cond:
            self._work((namespace, name)).body = packed

    def deleted(self, namespace: str, name: str, uid: str | None) -> None:
        """The Execution is gone: what was queued for it is dropped, it is forgotten."""
        with self._cond:
            work = self._work((namespace, name))
            work.deleted, work.uid, work.body, work.wake = True, uid, None, False
            work.pods.clear()

    def wake(self, namespace: str, name: str) -> None:
        """A due wake-up: one reconcile, unless an event queued for it brings one anyway."""
        with self._cond:
            self._work((namespace, name)).wake = True

    def pod(self, namespace: str, owner: str, pod: str, body: Mapping[str, Any] | None) -> None:
        """A pod's event (`body` None: deleted), for its owning Execution."""
        packed = None if body is None else pack(body)
        with self._cond:
            entries = self._work((namespace, owner)).pods.setdefault(pod, [])
            if packed is None:
                entries[:] = [None]  # nothing before a deletion matters any more
            elif entries and entries[-1] is not None:
                entries[-1] = packed
            else:
                entries.append(packed)  # after a deletion (a pod of that name anew)

    def _work(self, key: Key) -> _Work:
        """`key`'s queued work (the guard held), queued now when there was none."""
        work = self._queued.get(key)
        if work is None:
            work = self._queued[key] = _Work(self._clock.monotonic())
            if key not in self._running:  # else queued when its thread lets go of it
                self._order.append(key)
                self._cond.notify()
        return work

    # --- the threads -------------------------------------------------------------------

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """The threads end after their current key; what is queued is left (a relist recovers)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def dead(self) -> int:
        """Threads that ended although not stopped."""
        with self._cond:
            if self._stopped:
                return 0
        return sum(1 for t in self._threads if t.ident is not None and not t.is_alive())

    def work_off(self) -> None:
        """Reconcile everything queued in the calling thread (no threads started)."""
        while (taken := self._take(wait=False)) is not None:
            self._run(*taken)

    def _take(self, *, wait: bool) -> tuple[Key, _Work] | None:
        with self._cond:
            while not self._order:
                if self._stopped or not wait:
                    return None
                self._cond.wait()
            if self._stopped:
                return None
            key = self._order.popleft()
            self._running.add(key)
            return key, self._queued.pop(key)

    def _loop(self) -> None:
        while (taken := self._take(wait=True)) is not None:
            self._run(*taken)

    def _run(self, key: Key, work: _Work) -> None:
        try:
            self._handle(key, work)
        finally:
            with self._cond:
                self._running.discard(key)
                if key in self._queued:  # events came meanwhile: to the back of the line
                    self._order.append(key)
                    self._cond.notify()

    def _handle(self, key: Key, work: _Work) -> None:
        namespace, name = key
        if work.deleted:
            self._controller.forget(namespace, name, work.uid)
            self._cancel(key)
        if self._paused():  # the active replica has the same events
            logger.info("paused (peering): events of %s/%s left to the active replica", *key)
            return
        if work.body is not None:
            self._call(key, body=json.loads(work.body))
        elif work.wake and not work.pods:
            self._call(key)
        for pod, entries in work.pods.items():
            for entry in entries:
                self._call(key, PodHint(pod, None if entry is None else json.loads(entry)))

    def _call(self, key: Key, hint: PodHint | None = None, body: Body | None = None) -> None:
        """One reconcile; a failure is logged (the controller has scheduled its retry)."""
        try:
            self._controller.reconcile(*key, hint, body=body)
        except Exception:
            logger.exception("%s/%s: reconciling failed", *key)

    # --- what a probe reports ----------------------------------------------------------

    def __len__(self) -> int:
        """Executions with events queued."""
        with self._cond:
            return len(self._queued)

    def oldest(self) -> float | None:
        """Seconds the oldest queued work has waited; None when nothing is queued."""
        with self._cond:
            since = min((w.since for w in self._queued.values()), default=None)
        return None if since is None else self._clock.monotonic() - since

    def held(self) -> int:
        """Entries kept in all the queue's structures (0 once drained and idle)."""
        with self._cond:
            return len(self._queued) + len(self._order) + len(self._running)
