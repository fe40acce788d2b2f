"""Starting runs and attempts: validate the spec, record the attempt, create its objects.

An attempt is recorded in the status before its pod exists, so a restart in
between finds it and creates its (deterministically named) objects once; a
payload ConfigMap (only for a payload too large for the pod's annotations) is
inert, so it is created while the attempt is recorded. Objects under the
attempt's names are adopted only when the Execution controls them, and a
ConfigMap only with this attempt's data (else it is made anew).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent import futures
from datetime import datetime
from typing import Any

from execution_runner.protocol import Reason

from . import (
    api_errors,
    builders,
    kube,
    metrics,
    models,
    naming,
    outcomes,
    policy,
    status,
    validation,
)
from .cluster import Clock, Cluster
from .echoes import Echoes
from .outcomes import Outcome
from .settings import Settings
from .writer import StatusWriter

logger = logging.getLogger(__name__)

Body = dict[str, Any]
Scheduler = Callable[[tuple[str, str], float], None]
Beside = futures.Future[Body | None]
Spec = models.ExecutionSpec


_pool: futures.ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def shared_pool() -> futures.Executor:
    """Threads for calls made beside a step's own: one per worker, so none waits."""
    global _pool  # noqa: PLW0603 - one pool per process, like the connection pool
    with _pool_lock:
        if _pool is None:
            _pool = futures.ThreadPoolExecutor(kube.WORKERS, thread_name_prefix="beside")
        return _pool


def _created(early: Beside | None) -> bool:
    """The early creation made the ConfigMap (else it is made, adopted or refused now)."""
    if early is None:
        return False
    try:
        return early.result() is not None
    except Exception:
        return False


class Attempts:
    def __init__(
        self,
        *,
        settings: Settings,
        cluster: Cluster,
        clock: Clock,
        writer: StatusWriter,
        echoes: Echoes,
        schedule: Scheduler,
        beside: futures.Executor,
    ) -> None:
        self._beside = beside
        self._settings = settings
        self._cluster = cluster
        self._clock = clock
        self._writer = writer
        self._echoes = echoes
        self._schedule = schedule

    def start_run(self, execution: Body, spec_hash: str, now: datetime) -> None:
        """A new spec (or a new Execution): validate, then the run's first attempt."""
        meta = execution["metadata"]
        current = execution.get("status") or {}
        previous = current.get("podName")
        spec = None
        errors = validation.validate_execution(execution)
        if not errors:
            spec = validation.parse_spec(execution)
            errors = list(policy.policy_errors(spec, self._settings))
        outcome: Outcome | None = None
        if errors:
            outcome = outcomes.invalid_spec(errors)
        elif (execution.get("spec") or {}).get("cancel"):
            outcome = outcomes.cancelled()
        if previous and current.get("phase") not in models.TERMINAL_PHASES:
            # The spec changed under a running attempt: that run is superseded.
            self._cluster.delete_pod(meta["namespace"], previous)
        if outcome is not None or spec is None:
            assert outcome is not None
            patch = status.terminal_status(execution, outcome, now=now)
            patch["runSpecHash"] = spec_hash
            self._writer.write(execution, patch, outcome)
            return
        attempt = int(current.get("attempts") or 0) + 1
        self.start(execution, spec, attempt, now, first=True, spec_hash=spec_hash)

    def start(
        self,
        execution: Body,
        spec: Spec,
        attempt: int,
        now: datetime,
        *,
        first: bool,
        spec_hash: str | None = None,
    ) -> None:
        """Record the attempt in the status first, then create its objects."""
        pod_name = naming.execution_object_name(execution, attempt)
        patch = status.pending_status(execution, pod_name=pod_name, attempt=attempt, now=now)
        if first:
            patch["runSpecHash"] = spec_hash
            patch["runFirstAttempt"] = attempt
        outcome = Outcome("Pending", None, patch["message"])
        payload = builders.build_payload(execution, spec, attempt, self._settings)
        early = self._configmap_beside(execution, spec, attempt, payload)
        try:
            written = self._writer.write(execution, patch, outcome)
        except BaseException:
            if early is not None:
                futures.wait([early])  # made for nothing (e.g. a conflict): left to adoption
            raise
        self.create_objects(written, spec, attempt, now, payload=payload, early=early)

    def _configmap_beside(
        self, execution: Body, spec: Spec, attempt: int, payload: builders.Payload
    ) -> Beside | None:
        """The payload ConfigMap created while the attempt is recorded: it is inert.

        No pod mounts it before the record succeeded and the ConfigMap was seen to be
        ours with this attempt's data (`create_objects`), so a crash or a conflict in
        between leaves at most an unused ConfigMap that the next try adopts or remakes.
        Not with codeFrom/inputFrom, whose ConfigMaps are checked first.
        """
        if payload.inline or spec.code_from is not None or spec.input_from is not None:
            return None
        configmap = builders.build_payload_configmap(execution, payload, attempt)
        return self._beside.submit(self._cluster.create_if_absent, configmap)

    def retried(
        self, execution: Body, spec: Spec, attempt: int, outcome: Outcome, now: datetime
    ) -> bool:
        """Start the next attempt if `outcome` is an infrastructure failure with retries left."""
        if not (outcome.terminal and outcome.retryable):
            return False
        first = int((execution.get("status") or {}).get("runFirstAttempt") or 1)
        if attempt - first >= spec.retries:
            return False
        message = f"{outcome.message} Retrying."
        self._writer.post(execution, "Warning", outcome.reason or "", message)
        self.start(execution, spec, attempt + 1, now, first=False)
        return True

    def create_objects(
        self,
        execution: Body,
        spec: Spec,
        attempt: int,
        now: datetime,
        *,
        payload: builders.Payload | None = None,
        early: Beside | None = None,
    ) -> None:
        """The attempt's payload ConfigMap (unless inline), then its pod; the start
        deadline watched.

        `payload`: the attempt's, if built already; `early`: the ConfigMap's creation
        begun while the attempt was recorded.
        """
        meta = execution["metadata"]
        problem = self._configmap_problem(meta["namespace"], spec)
        if problem is not None:
            self._writer.finish(execution, problem, now)
            return
        if payload is None:
            payload = builders.build_payload(execution, spec, attempt, self._settings)
        started = self._clock.monotonic()
        try:
            if not payload.inline and not _created(early):
                self._cluster.create_or_adopt(
                    builders.build_payload_configmap(execution, payload, attempt)
                )
            pod = builders.build_pod(execution, spec, attempt, self._settings, payload)
            created = self._cluster.create_or_adopt(pod)
        except api_errors.NotOursError as conflict:
            self.fail_name_conflict(execution, conflict, now)
            return
        except api_errors.RefusedError as refused:
            outcome = Outcome(
                "Failed",
                Reason.POD_REJECTED,
                f"The API server refused the attempt's {refused.kind}: {refused.message}. "
                "Fix what it names (spec.podTemplate, spec.resources, logs.attributes, or the "
                "namespace's quota and limits) and apply the Execution again.",
            )
            self._writer.finish(execution, outcome, now)
            return
        except Exception as exc:  # transient (5xx, 429, timeouts): retried until the deadline
            if now < outcomes.creation_deadline(execution, spec):
                raise
            outcome = outcomes.creation_deadline_exceeded(spec, api_errors.describe_error(exc))
            if not self.retried(execution, spec, attempt, outcome, now):
                self._writer.finish(execution, outcome, now)
            return
        if created is not None:
            # The pod's first event shows what was just created: nothing to do then.
            version = created["metadata"].get("resourceVersion")
            key = ("Pod", meta["namespace"], pod["metadata"]["name"])
            self._echoes.wrote(key, version, skippable=True)
            metrics.instruments().pod_creation.record(self._clock.monotonic() - started)
            logger.info("%s/%s: attempt %d started", meta["namespace"], meta["name"], attempt)
        deadline = now.timestamp() + spec.start_deadline_seconds
        self._schedule((meta["namespace"], meta["name"]), deadline)

    def fail_name_conflict(
        self, execution: Body, conflict: api_errors.NotOursError, now: datetime
    ) -> None:
        """Someone else's object holds the attempt's name: fail, never adopt or run it."""
        outcome = Outcome(
            "Failed",
            Reason.NAME_CONFLICT,
            f"{conflict.kind} {conflict.name!r} exists but was not created for this Execution "
            "(its controller owner is not the Execution); it was not used. Find out who "
            "created it, delete it, and apply the Execution again.",
        )
        self._writer.finish(execution, outcome, now)

    def _configmap_problem(self, namespace: str, spec: Spec) -> Outcome | None:
        """A codeFrom/inputFrom ConfigMap that is missing, or lacks the key named."""
        sources = (("spec.codeFrom", spec.code_from), ("spec.inputFrom", spec.input_from))
        for where, source in sources:
            if source is None:
                continue
            ref = source.config_map_key_ref
            keys = self._cluster.configmap_keys(namespace, ref.name)
            if keys is None:
                return Outcome(
                    "Failed",
                    Reason.POD_FAILED,
                    f"ConfigMap {ref.name!r} ({where}) does not exist; "
                    "create it and apply the Execution again.",
                )
            if ref.key not in keys:
                # Nothing would ever start: the kubelet cannot mount a key that is not there.
                held = ", ".join(sorted(keys)) or "none"
                return outcomes.invalid_spec(
                    [
                        f"{where}.configMapKeyRef.key: ConfigMap {ref.name!r} has no key "
                        f"{ref.key!r} (it holds: {held})"
                    ]
                )
        return None
