"""The level-triggered controller: from an Execution and its pod to the next step.

`reconcile()` reads the current state and does at most one step, idempotently;
any event about an Execution or its pods, and any due wake-up, calls it again.
Status writes carry the resourceVersion they were computed from, so a stale
decision fails with 409 and is made again on fresh state. Starting attempts is
in `attempts`, writing the status in `writer`, the per-step memory in `steps`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from concurrent import futures
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from . import (
    api_errors,
    attempts,
    builders,
    metrics,
    models,
    naming,
    outcomes,
    results,
    status,
    validation,
)
from .attempts import Attempts, Scheduler
from .cluster import SYSTEM_CLOCK, Clock, Cluster
from .echoes import Echoes
from .known import KnownBodies
from .podview import PodView, parse_time
from .settings import Settings
from .steps import StepTracker
from .writer import EventPoster, StatusWriter

logger = logging.getLogger(__name__)

Body = dict[str, Any]
MAX_CONFLICT_RETRIES = 5
RESYNC_SECONDS = 60.0  # re-check of an unfinished Execution without any event
# Reads of a finished pod's log (through its node's kubelet) before RunnerError; with
# the back-off between steps, about half a minute.
LOG_READ_TRIES = 6


def run_spec_hash(execution: Mapping[str, Any]) -> str:
    """What identifies a run: the spec without `cancel` (cancelling is not a new run)."""
    spec = {k: v for k, v in (execution.get("spec") or {}).items() if k != "cancel"}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


class Stale(Exception):
    """The step would act on a body from an event, where it must act on a fresh read."""


def require_fresh(fresh: bool) -> None:
    """Deleting or creating outside a conditional write needs the Execution as it is now.

    A status write carries its resourceVersion and fails on a stale body; a pod
    deletion or creation would not, so it is decided on a fresh read only.
    """
    if not fresh:
        raise Stale


class _Event(NamedTuple):
    hint: PodHint | None
    version: str | None
    body: Body | None


@dataclass
class PodHint:
    """What an event said about one of the Execution's pods."""

    name: str
    body: Body | None  # None: the pod was deleted


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
        self._writer = StatusWriter(
            cluster, post_event or cluster.post_event, self.echoes, self.known
        )
        self._attempts = Attempts(
            settings=settings,
            cluster=cluster,
            clock=clock,
            writer=self._writer,
            echoes=self.echoes,
            schedule=schedule,
            beside=beside or attempts.shared_pool(),
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
                active = self._reconcile(*key, hint, body)
            except Exception:
                # Watch events are not redelivered: come back by ourselves after a failure,
                # backing off (with jitter, so many failing Executions spread out).
                self._schedule(key, self._wall() + self.steps.failed(key))
                raise
            self.steps.succeeded(key)
        if active:  # a safety net for a missed watch event
            self._schedule(key, self._wall() + RESYNC_SECONDS)

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
    ) -> bool:
        """One step (on `body`, else read afresh), again on a conflict; True while not terminal."""
        for _ in range(MAX_CONFLICT_RETRIES):
            fresh = body is None
            execution = self.cluster.get_execution(namespace, name) if fresh else body
            body = None  # a retry reads afresh
            if fresh and execution is not None:
                self.known.saw(execution)
            if execution is None or execution["metadata"].get("deletionTimestamp"):
                return False
            try:
                self._step(execution, hint, fresh=fresh)
            except Stale:
                continue
            except Exception as exc:
                if not api_errors.is_status(exc, 409):
                    raise
                logger.debug("conflict on %s/%s; reconciling again", namespace, name)
                continue
            return (execution.get("status") or {}).get("phase") not in models.TERMINAL_PHASES
        raise RuntimeError(f"{namespace}/{name}: status kept changing under the operator")

    # --- the decision ----------------------------------------------------------------

    def _step(self, execution: Body, hint: PodHint | None, *, fresh: bool = True) -> None:
        meta = execution["metadata"]
        current = execution.get("status") or {}
        now = self.clock.now()
        terminal = current.get("phase") in models.TERMINAL_PHASES
        metrics.set_active(meta["uid"], not terminal)

        # The run's identity is the generation it was started for. The spec as served
        # is compared only after the generation moved: a CRD upgrade that adds a
        # defaulted field changes the served spec but not the generation.
        same_generation = current.get("runSpecHash") is not None and current.get(
            "observedGeneration"
        ) == meta.get("generation")
        if not same_generation:
            spec_hash = run_spec_hash(execution)
            if current.get("runSpecHash") != spec_hash:
                # A superseded attempt's pod is deleted: only on a fresh read.
                require_fresh(fresh or not current.get("podName") or terminal)
                self._attempts.start_run(execution, spec_hash, now)
                return
        if terminal:
            self._after_finish(execution, now, fresh=fresh)
            return

        spec = validation.parse_spec(execution)
        attempt = int(current.get("attempts") or 1)
        pod_name = current.get("podName") or naming.execution_object_name(execution, attempt)
        if hint is not None and hint.name == pod_name:
            body = hint.body
        else:
            body = self.cluster.get_pod(meta["namespace"], pod_name)
        if body is not None and not naming.controlled_by(body, meta["uid"]):
            self._attempts.fail_name_conflict(
                execution, api_errors.NotOursError("Pod", pod_name), now
            )
            return
        pod = PodView.of(body) if body is not None else None

        deleted = hint is not None and hint.name == pod_name and hint.body is None
        # No pod and no word of its deletion: create it, unless it had started
        # (then it was deleted while the operator was not watching).
        if pod is None and not deleted and not current.get("startTime") and not spec.cancel:
            require_fresh(fresh)
            self._attempts.create_objects(execution, spec, attempt, now)
            return
        if spec.cancel and pod is not None and not pod.terminated:
            require_fresh(fresh)
            self._cancel(execution, pod)
            return

        update = status.status_for_pod(
            execution, spec, pod, attempt=attempt, now=now, result=self._result_of(execution, pod)
        )
        outcome = update.outcome
        if outcome.terminal and pod is not None and not pod.finished:
            # Decided without the pod ending (start deadline, cannot start): stop it.
            require_fresh(fresh)
            self.cluster.delete_pod(meta["namespace"], pod.name, grace_seconds=0)
        if not self._attempts.retried(execution, spec, attempt, outcome, now):
            self._writer.write(execution, update.patch, outcome)
        if not outcome.terminal and pod is not None:
            # Nobody else enforces these if the node or kubelet is gone.
            watch = (
                outcomes.start_deadline if outcome.phase == "Pending" else outcomes.running_deadline
            )
            deadline = watch(spec, pod)
            if deadline is not None:
                self._schedule((meta["namespace"], meta["name"]), deadline.timestamp())

    # --- steps -----------------------------------------------------------------------

    def _cancel(self, execution: Body, pod: PodView) -> None:
        """Stop the pod: SIGTERM lets the runner stop the code, flush logs and report."""
        if pod.deleting:
            return  # already stopping; its final state or deletion completes the cancel
        self.cluster.delete_pod(
            execution["metadata"]["namespace"],
            pod.name,
            grace_seconds=None if pod.running else 0,
        )
        self._writer.post(execution, "Normal", "Cancelling", f"Stopping pod {pod.name}.")

    def _after_finish(self, execution: Body, now: datetime, *, fresh: bool) -> None:
        """A terminal Execution: keep observedGeneration current, apply its TTL."""
        meta = execution["metadata"]
        current = execution.get("status") or {}
        generation = int(meta.get("generation", 1))
        if current.get("observedGeneration") != generation:
            conditions = [
                {**c, "observedGeneration": generation} for c in current.get("conditions") or []
            ]
            self._writer.patch(
                execution, {"observedGeneration": generation, "conditions": conditions}
            )
        ttl = (execution.get("spec") or {}).get("ttlSecondsAfterFinished")
        finished = parse_time(current.get("completionTime"))
        if ttl is None or finished is None:
            return
        due = finished.timestamp() + int(ttl)
        if now.timestamp() >= due:
            require_fresh(fresh)
            logger.info("%s/%s: TTL reached; deleting", meta["namespace"], meta["name"])
            self.cluster.delete_execution(execution)
        else:
            self._schedule((meta["namespace"], meta["name"]), due)

    def _result_of(self, execution: Body, pod: PodView | None) -> results.ResultRead | None:
        if pod is None or not pod.has_result:
            return None
        inline = results.inline_result(pod.termination)
        if inline is not None:  # small results travel in the termination message
            return inline
        meta = execution["metadata"]
        try:
            tail = self.cluster.read_log_tail(
                meta["namespace"],
                pod.name,
                builders.CONTAINER_NAME,
                self.settings.result_read_max_bytes,
            )
        except Exception as exc:
            if api_errors.is_status(exc, 400, 404):  # the log is gone with a deleted pod
                return results.ResultRead(problem="the pod's log could not be read")
            # Other errors (e.g. 500 from a node without an address) may pass: the step
            # is retried with back-off, a bounded number of times.
            if self.steps.failures((meta["namespace"], meta["name"])) + 1 < LOG_READ_TRIES:
                raise
            return results.ResultRead(
                problem=f"the pod's log could not be read in {LOG_READ_TRIES} tries, "
                f"the last: {api_errors.describe_error(exc)}"
            )
        return results.read_result(tail, pod.termination)
