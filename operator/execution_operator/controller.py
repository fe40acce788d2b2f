"""The level-triggered controller: from an Execution and its pod to the next step.

`reconcile()` reads the current state and does at most one step, idempotently;
any event about an Execution or its pods, and any due wake-up, calls it again.
Status writes carry the resourceVersion they were computed from, so a stale
decision fails with 409 and is made again on fresh state.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from execution_runner.protocol import Reason

from . import builders, kube, metrics, models, naming, outcomes, policy, results, status, validation
from .cluster import SYSTEM_CLOCK, Clock, Cluster
from .locks import KeyedLocks
from .outcomes import Outcome
from .podview import PodView, parse_time
from .settings import Settings

logger = logging.getLogger(__name__)

Body = dict[str, Any]
EventPoster = Callable[[Mapping[str, Any], str, str, str], None]
Scheduler = Callable[[tuple[str, str], float], None]
MAX_CONFLICT_RETRIES = 5
RETRY_SECONDS = 1.0  # after a failed step (API error); doubles per failure in a row
RETRY_MAX_SECONDS = 60.0
RESYNC_SECONDS = 60.0  # re-check of an unfinished Execution without any event
# Reads of a finished pod's log (through its node's kubelet) before RunnerError; with
# the back-off between steps, about half a minute.
LOG_READ_TRIES = 6


def run_spec_hash(execution: Mapping[str, Any]) -> str:
    """What identifies a run: the spec without `cancel` (cancelling is not a new run)."""
    spec = {k: v for k, v in (execution.get("spec") or {}).items() if k != "cancel"}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class PodHint:
    """What an event said about one of the Execution's pods."""

    name: str
    body: Body | None  # None: the pod was deleted


class Controller:
    """Decides and takes each Execution's next step through `cluster`, timed by `clock`.

    `schedule(key, when)` asks for a `reconcile` of key at wall-clock time `when`
    (seconds since the epoch); `post_event` defaults to the cluster's (synchronous).
    """

    def __init__(
        self,
        settings: Settings,
        cluster: Cluster,
        schedule: Scheduler,
        *,
        clock: Clock = SYSTEM_CLOCK,
        post_event: EventPoster | None = None,
    ) -> None:
        self.settings = settings
        self.cluster = cluster
        self.clock = clock
        self._post_event = post_event or cluster.post_event
        self._schedule = schedule
        self.locks = KeyedLocks()
        self._failures_guard = threading.Lock()
        # Failed steps in a row per Execution, for the back-off; cleared on success.
        self._failures: dict[tuple[str, str], int] = {}
        # When each running step began (monotonic), to notice a hung worker.
        self._steps: dict[tuple[str, str], float] = {}

    def stuck_for(self) -> float | None:
        """Seconds the oldest running step has taken so far; None when none runs."""
        with self._failures_guard:
            began = min(self._steps.values(), default=None)
        return None if began is None else self.clock.monotonic() - began

    def _backoff(self, key: tuple[str, str]) -> float:
        """Seconds until the next try after another failure in a row of `key`'s steps."""
        with self._failures_guard:
            failures = self._failures[key] = self._failures.get(key, 0) + 1
        delay = min(RETRY_MAX_SECONDS, RETRY_SECONDS * 2.0 ** min(failures - 1, 16))
        jitter: float = random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret
        return delay * jitter

    def forget(self, namespace: str, name: str, uid: str | None) -> None:
        with self._failures_guard:
            self._failures.pop((namespace, name), None)
        if uid:
            metrics.set_active(uid, False)

    # --- entry point -------------------------------------------------------------

    def reconcile(self, namespace: str, name: str, hint: PodHint | None = None) -> None:
        """Bring one Execution a step closer to done; safe to call any time, any number."""
        key = (namespace, name)
        with self.locks.hold(key):
            with self._failures_guard:
                self._steps[key] = self.clock.monotonic()
            try:
                active = self._reconcile(namespace, name, hint)
            except Exception:
                # Watch events are not redelivered: come back by ourselves after a failure,
                # backing off (with jitter, so many failing Executions spread out).
                self._schedule(key, self._wall() + self._backoff(key))
                raise
            finally:
                with self._failures_guard:
                    del self._steps[key]
            with self._failures_guard:
                self._failures.pop(key, None)
        if active:  # a safety net for a missed watch event
            self._schedule(key, self._wall() + RESYNC_SECONDS)

    def _wall(self) -> float:
        return self.clock.now().timestamp()

    def _reconcile(self, namespace: str, name: str, hint: PodHint | None) -> bool:
        """One step on fresh state, again on a write conflict; True while not terminal."""
        for _ in range(MAX_CONFLICT_RETRIES):
            execution = self.cluster.get_execution(namespace, name)
            if execution is None or execution["metadata"].get("deletionTimestamp"):
                return False
            try:
                self._step(execution, hint)
            except Exception as exc:
                if not kube.is_status(exc, 409):
                    raise
                logger.debug("conflict on %s/%s; reconciling again", namespace, name)
                continue
            return (execution.get("status") or {}).get("phase") not in models.TERMINAL_PHASES
        raise RuntimeError(f"{namespace}/{name}: status kept changing under the operator")

    # --- the decision ----------------------------------------------------------------

    def _step(self, execution: Body, hint: PodHint | None) -> None:
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
                self._start_run(execution, spec_hash, now)
                return
        if terminal:
            self._after_finish(execution, now)
            return

        spec = validation.parse_spec(execution)
        attempt = int(current.get("attempts") or 1)
        pod_name = current.get("podName") or naming.execution_object_name(execution, attempt)
        if hint is not None and hint.name == pod_name:
            body = hint.body
        else:
            body = self.cluster.get_pod(meta["namespace"], pod_name)
        if body is not None and not naming.controlled_by(body, meta["uid"]):
            self._fail_name_conflict(execution, kube.NotOursError("Pod", pod_name), now)
            return
        pod = PodView.of(body) if body is not None else None

        deleted = hint is not None and hint.name == pod_name and hint.body is None
        # No pod and no word of its deletion: create it, unless it had started
        # (then it was deleted while the operator was not watching).
        if pod is None and not deleted and not current.get("startTime") and not spec.cancel:
            self._create_objects(execution, spec, attempt, now)
            return
        if spec.cancel and pod is not None and not pod.terminated:
            self._cancel(execution, pod)
            return

        update = status.status_for_pod(
            execution, spec, pod, attempt=attempt, now=now, result=self._result_of(execution, pod)
        )
        outcome = update.outcome
        if outcome.terminal and pod is not None and not pod.finished:
            # Decided without the pod ending (start deadline, cannot start): stop it.
            self.cluster.delete_pod(meta["namespace"], pod.name, grace_seconds=0)
        if not self._retried(execution, spec, attempt, outcome, now):
            self._write(execution, update.patch, outcome)
        if not outcome.terminal and pod is not None:
            # Nobody else enforces these if the node or kubelet is gone.
            watch = (
                outcomes.start_deadline if outcome.phase == "Pending" else outcomes.running_deadline
            )
            deadline = watch(spec, pod)
            if deadline is not None:
                self._schedule((meta["namespace"], meta["name"]), deadline.timestamp())

    def _retried(
        self,
        execution: Body,
        spec: models.ExecutionSpec,
        attempt: int,
        outcome: Outcome,
        now: datetime,
    ) -> bool:
        """Start the next attempt if `outcome` is an infrastructure failure with retries left."""
        if not (outcome.terminal and outcome.retryable):
            return False
        if not self._retries_left(execution, spec, attempt):
            return False
        self._post(execution, "Warning", outcome.reason or "", f"{outcome.message} Retrying.")
        self._start_attempt(execution, spec, attempt + 1, now, first=False)
        return True

    # --- steps -----------------------------------------------------------------------

    def _start_run(self, execution: Body, spec_hash: str, now: datetime) -> None:
        """A new spec (or a new Execution): validate, then the run's first attempt."""
        meta = execution["metadata"]
        current = execution.get("status") or {}
        previous = current.get("podName")
        spec = None
        errors = validation.validate_execution(execution)
        if not errors:
            spec = validation.parse_spec(execution)
            errors = list(policy.policy_errors(spec, self.settings))
        outcome: Outcome | None = None
        if errors:
            outcome = outcomes.invalid_spec(errors)
        elif (execution.get("spec") or {}).get("cancel"):
            outcome = outcomes.cancelled()
        if previous and current.get("phase") not in models.TERMINAL_PHASES:
            # The spec changed under a running attempt: that run is superseded.
            self.cluster.delete_pod(meta["namespace"], previous)
        if outcome is not None or spec is None:
            assert outcome is not None
            patch = status.terminal_status(execution, outcome, now=now)
            patch["runSpecHash"] = spec_hash
            self._write(execution, patch, outcome)
            return
        attempt = int(current.get("attempts") or 0) + 1
        self._start_attempt(execution, spec, attempt, now, first=True, spec_hash=spec_hash)

    def _start_attempt(
        self,
        execution: Body,
        spec: models.ExecutionSpec,
        attempt: int,
        now: datetime,
        *,
        first: bool,
        spec_hash: str | None = None,
    ) -> None:
        """Record the attempt in the status first, then create its objects.

        Recording first means a restart between the two finds the attempt and
        creates its (deterministically named) objects once.
        """
        pod_name = naming.execution_object_name(execution, attempt)
        patch = status.pending_status(execution, pod_name=pod_name, attempt=attempt, now=now)
        if first:
            patch["runSpecHash"] = spec_hash
            patch["runFirstAttempt"] = attempt
        outcome = Outcome("Pending", None, patch["message"])
        written = self._write(execution, patch, outcome)
        self._create_objects(written, spec, attempt, now)

    def _create_objects(
        self, execution: Body, spec: models.ExecutionSpec, attempt: int, now: datetime
    ) -> None:
        meta = execution["metadata"]
        missing = self._missing_configmaps(meta["namespace"], spec)
        if missing:
            outcome = Outcome(
                "Failed",
                Reason.POD_FAILED,
                f"ConfigMap {missing!r} (spec.codeFrom or spec.inputFrom) does not exist; "
                "create it and apply the Execution again.",
            )
            self._write(execution, status.terminal_status(execution, outcome, now=now), outcome)
            return
        started = self.clock.monotonic()
        try:
            self.cluster.create_or_adopt(
                builders.build_payload_configmap(execution, attempt, self.settings)
            )
            created = self.cluster.create_or_adopt(
                builders.build_pod(execution, attempt, self.settings)
            )
        except kube.NotOursError as conflict:
            self._fail_name_conflict(execution, conflict, now)
            return
        except kube.RefusedError as refused:
            outcome = Outcome(
                "Failed",
                Reason.POD_REJECTED,
                f"The API server refused the attempt's {refused.kind}: {refused.message}. "
                "Fix what it names (spec.podTemplate, spec.resources, logs.attributes, or the "
                "namespace's quota and limits) and apply the Execution again.",
            )
            self._write(execution, status.terminal_status(execution, outcome, now=now), outcome)
            return
        except Exception as exc:  # transient (5xx, 429, timeouts): retried until the deadline
            if now < outcomes.creation_deadline(execution, spec):
                raise
            outcome = outcomes.creation_deadline_exceeded(spec, kube.describe_error(exc))
            if not self._retried(execution, spec, attempt, outcome, now):
                self._write(execution, status.terminal_status(execution, outcome, now=now), outcome)
            return
        if created:
            metrics.instruments().pod_creation.record(self.clock.monotonic() - started)
            logger.info("%s/%s: attempt %d started", meta["namespace"], meta["name"], attempt)
        deadline = now.timestamp() + spec.start_deadline_seconds
        self._schedule((meta["namespace"], meta["name"]), deadline)

    def _fail_name_conflict(
        self, execution: Body, conflict: kube.NotOursError, now: datetime
    ) -> None:
        """Someone else's object holds the attempt's name: fail, never adopt or run it."""
        outcome = Outcome(
            "Failed",
            Reason.NAME_CONFLICT,
            f"{conflict.kind} {conflict.name!r} exists but was not created for this Execution "
            "(its controller owner is not the Execution); it was not used. Find out who "
            "created it, delete it, and apply the Execution again.",
        )
        self._write(execution, status.terminal_status(execution, outcome, now=now), outcome)

    def _missing_configmaps(self, namespace: str, spec: models.ExecutionSpec) -> str | None:
        for source in (spec.code_from, spec.input_from):
            if source is not None:
                ref = source.config_map_key_ref
                if not self.cluster.configmap_exists(namespace, ref.name):
                    return ref.name
        return None

    def _cancel(self, execution: Body, pod: PodView) -> None:
        """Stop the pod: SIGTERM lets the runner stop the code, flush logs and report."""
        if pod.deleting:
            return  # already stopping; its final state or deletion completes the cancel
        self.cluster.delete_pod(
            execution["metadata"]["namespace"],
            pod.name,
            grace_seconds=None if pod.running else 0,
        )
        self._post(execution, "Normal", "Cancelling", f"Stopping pod {pod.name}.")

    def _after_finish(self, execution: Body, now: datetime) -> None:
        """A terminal Execution: keep observedGeneration current, apply its TTL."""
        meta = execution["metadata"]
        current = execution.get("status") or {}
        generation = int(meta.get("generation", 1))
        if current.get("observedGeneration") != generation:
            conditions = [
                {**c, "observedGeneration": generation} for c in current.get("conditions") or []
            ]
            self._patch(execution, {"observedGeneration": generation, "conditions": conditions})
        ttl = (execution.get("spec") or {}).get("ttlSecondsAfterFinished")
        finished = parse_time(current.get("completionTime"))
        if ttl is None or finished is None:
            return
        due = finished.timestamp() + int(ttl)
        if now.timestamp() >= due:
            logger.info("%s/%s: TTL reached; deleting", meta["namespace"], meta["name"])
            self.cluster.delete_execution(execution)
        else:
            self._schedule((meta["namespace"], meta["name"]), due)

    def _retries_left(self, execution: Body, spec: models.ExecutionSpec, attempt: int) -> bool:
        first = int((execution.get("status") or {}).get("runFirstAttempt") or 1)
        return attempt - first < spec.retries

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
            if kube.is_status(exc, 400, 404):  # the log is gone with a deleted pod
                return results.ResultRead(problem="the pod's log could not be read")
            # Other errors (e.g. 500 from a node without an address) may pass: the step
            # is retried with back-off, a bounded number of times.
            with self._failures_guard:
                failed = self._failures.get((meta["namespace"], meta["name"]), 0)
            if failed + 1 < LOG_READ_TRIES:
                raise
            return results.ResultRead(
                problem=f"the pod's log could not be read in {LOG_READ_TRIES} tries, "
                f"the last: {kube.describe_error(exc)}"
            )
        return results.read_result(tail, pod.termination)

    # --- writing -----------------------------------------------------------------------

    def _write(self, execution: Body, patch: dict[str, Any], outcome: Outcome) -> Body:
        """Write the status if it changes anything; post an Event on a transition."""
        current = execution.get("status") or {}
        if all(current.get(k) == v for k, v in patch.items()):
            return execution
        written = self._patch(execution, patch)
        meta = execution["metadata"]
        before = (current.get("phase"), current.get("reason"), current.get("attempts"))
        after = (outcome.phase, outcome.reason, patch.get("attempts", current.get("attempts")))
        if before != after:
            kind = "Warning" if outcome.phase == "Failed" else "Normal"
            self._post(execution, kind, outcome.reason or outcome.phase, outcome.message)
            logger.info(
                "%s/%s: %s %s", meta["namespace"], meta["name"], outcome.phase, outcome.reason or ""
            )
            if outcome.terminal:
                metrics.set_active(meta["uid"], False)
                metrics.record_outcome(
                    outcome.reason or "", int(patch.get("code") or 0), patch.get("metrics")
                )
        return written

    def _patch(self, execution: Body, patch: dict[str, Any]) -> Body:
        return self.cluster.patch_execution_status(execution, patch)

    def _post(self, execution: Body, kind: str, reason: str, message: str) -> None:
        try:
            self._post_event(execution, kind, reason, message)
        except Exception:  # an Event is a courtesy; the status is the record
            logger.exception("could not post an event")
