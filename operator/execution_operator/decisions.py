"""The decision: from an Execution and its pod to the next step, and taking it.

`Decisions.step` looks at one Execution (and the pod an event named, or reads
it) and does at most one thing: start a run, create its objects, cancel, stop
a pod past its deadline, retry, write the status, apply the TTL. Events,
locking and conflicts are `controller.py`'s; starting attempts is `attempts.py`'s.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import api_errors, builders, metrics, models, naming, outcomes, results, status, validation
from .attempts import Attempts, Scheduler
from .cluster import Clock, Cluster
from .podview import PodView, parse_time
from .settings import Settings
from .writer import StatusWriter

logger = logging.getLogger(__name__)

Body = dict[str, Any]
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


@dataclass
class PodHint:
    """What an event said about one of the Execution's pods."""

    name: str
    body: Body | None  # None: the pod was deleted


@dataclass
class Decisions:
    """Takes each step through `cluster`; `failures(key)` counts the failed steps in a row."""

    settings: Settings
    cluster: Cluster
    clock: Clock
    writer: StatusWriter
    attempts: Attempts
    schedule: Scheduler
    failures: Callable[[tuple[str, str]], int]

    def step(self, execution: Body, hint: PodHint | None, *, fresh: bool = True) -> None:
        """At most one step for `execution` (`fresh`: read just now, not from an event)."""
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
                self.attempts.start_run(execution, spec_hash, now)
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
            self.attempts.fail_name_conflict(
                execution, api_errors.NotOursError("Pod", pod_name), now
            )
            return
        pod = PodView.of(body) if body is not None else None

        deleted = hint is not None and hint.name == pod_name and hint.body is None
        # No pod and no word of its deletion: create it, unless it had started
        # (then it was deleted while the operator was not watching).
        if pod is None and not deleted and not current.get("startTime") and not spec.cancel:
            require_fresh(fresh)
            self.attempts.create_objects(execution, spec, attempt, now)
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
        if not self.attempts.retried(execution, spec, attempt, outcome, now):
            self.writer.write(execution, update.patch, outcome)
        if not outcome.terminal and pod is not None:
            # Nobody else enforces these if the node or kubelet is gone.
            watch = (
                outcomes.start_deadline if outcome.phase == "Pending" else outcomes.running_deadline
            )
            deadline = watch(spec, pod)
            if deadline is not None:
                self.schedule((meta["namespace"], meta["name"]), deadline.timestamp())

    def _cancel(self, execution: Body, pod: PodView) -> None:
        """Stop the pod: SIGTERM lets the runner stop the code, flush logs and report."""
        if pod.deleting:
            return  # already stopping; its final state or deletion completes the cancel
        self.cluster.delete_pod(
            execution["metadata"]["namespace"],
            pod.name,
            grace_seconds=None if pod.running else 0,
        )
        self.writer.post(execution, "Normal", "Cancelling", f"Stopping pod {pod.name}.")

    def _after_finish(self, execution: Body, now: datetime, *, fresh: bool) -> None:
        """A terminal Execution: keep observedGeneration current, apply its TTL."""
        meta = execution["metadata"]
        current = execution.get("status") or {}
        generation = int(meta.get("generation", 1))
        if current.get("observedGeneration") != generation:
            conditions = [
                {**c, "observedGeneration": generation} for c in current.get("conditions") or []
            ]
            self.writer.patch(
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
            self.schedule((meta["namespace"], meta["name"]), due)

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
            if self.failures((meta["namespace"], meta["name"])) + 1 < LOG_READ_TRIES:
                raise
            return results.ResultRead(
                problem=f"the pod's log could not be read in {LOG_READ_TRIES} tries, "
                f"the last: {api_errors.describe_error(exc)}"
            )
        return results.read_result(tail, pod.termination)
