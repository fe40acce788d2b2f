"""The level-triggered controller: from any event about an Execution to its next step.

`reconcile()` takes the current state and does at most one step, idempotently;
any event about an Execution or its pods, and any due wake-up, calls it again.
Status writes carry the resourceVersion they were computed from, so a stale
decision fails with 409 and is made again on fresh state. The decision itself is
in `decisions`, starting attempts in `attempts`, writing the status in `writer`,
the per-step memory in `steps`.
"""

from __future__ import annotations

import logging
from concurrent import futures
from typing import Any, NamedTuple

from . import api_errors, attempts, metrics, models
from .attempts import Attempts, Scheduler
from .cluster import SYSTEM_CLOCK, Clock, Cluster
from .decisions import Decisions, PodHint, Stale
from .echoes import Echoes
from .known import KnownBodies
from .settings import Settings
from .steps import StepTracker
from .writer import EventPoster, StatusWriter

logger = logging.getLogger(__name__)

Body = dict[str, Any]
MAX_CONFLICT_RETRIES = 5


class _Event(NamedTuple):
    hint: PodHint | None
    version: str | None
    body: Body | None


class Controller:
    """Decides and takes each Execution's next step through `cluster`, timed by `clock`.

    `schedule(key, when)` asks for a `reconcile` of key at wall-clock time `when`
    (seconds since the epoch); `post_event` defaults to the cluster's (synchronous);
    `beside` runs the API calls made next to a step's own (a shared thread pool).
    """

    def __init__(
        self,
        settings: Settings,
        cluster: Cluster,
        schedule: Scheduler,
        *,
        clock: Clock = SYSTEM_CLOCK,
        post_event: EventPoster | None = None,
        beside: futures.Executor | None = None,
    ) -> None:
        self.settings = settings
        self.cluster = cluster
        self.clock = clock
        self._schedule = schedule
        self.steps = StepTracker(clock)
        self.echoes = Echoes(clock)
        self.known = KnownBodies()
        writer = StatusWriter(cluster, post_event or cluster.post_event, self.echoes, self.known)
        self._decisions = Decisions(
            settings=settings,
            cluster=cluster,
            clock=clock,
            writer=writer,
            attempts=Attempts(
                settings=settings,
                cluster=cluster,
                clock=clock,
                writer=writer,
                echoes=self.echoes,
                schedule=schedule,
                beside=beside or attempts.shared_pool(),
            ),
            schedule=schedule,
            failures=self.steps.failures,
        )

    def stuck_for(self) -> float | None:
        """Seconds the oldest running step has taken so far; None when none runs."""
        return self.steps.stuck_for()

    def forget(self, namespace: str, name: str, uid: str | None) -> None:
        self.steps.forget((namespace, name))
        self.echoes.forget((models.KIND, namespace, name))
        self.known.forget((namespace, name))
        if uid:
            metrics.set_active(uid, False)

    # --- entry point -------------------------------------------------------------

    def reconcile(
        self,
        namespace: str,
        name: str,
        hint: PodHint | None = None,
        *,
        version: str | None = None,
        body: Body | None = None,
    ) -> None:
        """Bring one Execution a step closer to done; safe to call any time, any number.

        `body`: the Execution as its watch event brought it (`version`: that event's
        resourceVersion, when only it is known). The event of the operator's own
        non-terminal write is skipped: nothing changed. A body is used instead of a
        read unless a write of ours has not come back since (the body is older).
        Without a hint, a body or a version (a wake-up), it is not an event.
        """
        key = (namespace, name)
        if body is not None:
            version = body["metadata"].get("resourceVersion")
        event: _Event | None = _Event(hint, version, body)
        if not self.steps.take(key, event):
            return  # a step of this Execution runs: its thread takes this event next
        failure: Exception | None = None
        try:
            while event is not None:
                try:
                    self._take(key, event)
                except Exception as exc:
                    if failure is not None:  # the caller sees the first; kopf logs it
                        logger.exception("%s/%s: a step failed", namespace, name)
                    failure = failure or exc
                event = self.steps.next(key)
        except BaseException:
            self.steps.let_go(key)
            raise
        if failure is not None:
            raise failure

    def _take(self, key: tuple[str, str], event: _Event) -> None:
        """One event's step (none for an echo of our own write)."""
        hint, version, body = event
        with self.steps.step(key):
            if self._echo(key, hint, version):
                return
            body = self._known_body(key, hint, body)
            try:
                self._reconcile(*key, hint, body)
            except Exception:
                # Watch events are not redelivered: come back by ourselves after a failure,
                # backing off (with jitter, so many failing Executions spread out).
                self._schedule(key, self._wall() + self.steps.failed(key))
                raise
            self.steps.succeeded(key)

    def _echo(self, key: tuple[str, str], hint: PodHint | None, version: str | None) -> bool:
        """True when the event is exactly one of our own writes coming back."""
        namespace, name = key
        if hint is not None:
            meta = (hint.body or {}).get("metadata") or {}
            return self.echoes.event(("Pod", namespace, hint.name), meta.get("resourceVersion"))
        if version is not None:
            return self.echoes.event((models.KIND, namespace, name), version)
        return False

    def _known_body(
        self, key: tuple[str, str], hint: PodHint | None, body: Body | None
    ) -> Body | None:
        """The newest body known for an event (None: read it), never one older than our writes."""
        if body is not None:
            self.known.saw(body)
        elif hint is not None:
            body = self.known.get(key)
        if body is None:
            return None
        version = body["metadata"].get("resourceVersion")
        if self.echoes.ahead_of((models.KIND, *key), version):
            return None
        return body

    def _wall(self) -> float:
        return self.clock.now().timestamp()

    def _reconcile(
        self, namespace: str, name: str, hint: PodHint | None, body: Body | None
    ) -> None:
        """One step (on `body`, else read afresh), again on a conflict."""
        for _ in range(MAX_CONFLICT_RETRIES):
            fresh = body is None
            execution = self.cluster.get_execution(namespace, name) if fresh else body
            body = None  # a retry reads afresh
            if fresh and execution is not None:
                self.known.saw(execution)
            if execution is None or execution["metadata"].get("deletionTimestamp"):
                return
            try:
                self._decisions.step(execution, hint, fresh=fresh)
            except Stale:
                continue
            except Exception as exc:
                if not api_errors.is_status(exc, 409):
                    raise
                logger.debug("conflict on %s/%s; reconciling again", namespace, name)
                continue
            return
        raise RuntimeError(f"{namespace}/{name}: status kept changing under the operator")
