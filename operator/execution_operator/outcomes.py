"""Where an attempt stands, decided from the parsed spec and the pod alone (pure).

`classify` gives the phase, and for a terminal phase the reason, the message
and whether `spec.retries` may re-run it; the deadlines say when to look again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from execution_runner import protocol
from execution_runner.protocol import Reason, TerminationKey

from . import models
from .podview import PodView, parse_time

# Waiting reasons of an image that cannot be pulled (yet): named at the start deadline.
IMAGE_ERRORS: Final = frozenset(
    {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
)
# Past timeoutSeconds, the runner stops the code within its kill grace and the kubelet
# kills the pod within its termination grace; a pod "running" this much later than
# that is on a node that no longer reports (NodeLost).
NODE_LOST_MARGIN_SECONDS: Final = 120
CONFIG_ERRORS: Final = frozenset({"CreateContainerConfigError", "CreateContainerError"})
_MISSING_OBJECT: Final = re.compile(r'(secret|configmap) "([^"]+)" not found', re.IGNORECASE)
Spec = models.ExecutionSpec


@dataclass(frozen=True)
class Outcome:
    """Where an attempt stands: the phase, and for a terminal phase the reason."""

    phase: str
    reason: str | None
    message: str
    # An infrastructure failure that `spec.retries` may re-run.
    retryable: bool = False

    @property
    def terminal(self) -> bool:
        return self.phase in models.TERMINAL_PHASES


# --- deadlines ----------------------------------------------------------------------


def _after(moment: datetime | None, seconds: float) -> datetime | None:
    return None if moment is None else datetime.fromtimestamp(moment.timestamp() + seconds, UTC)


def running_deadline(spec: Spec, pod: PodView) -> datetime | None:
    """When a pod whose code started counts as lost with its node."""
    limit = spec.timeout_seconds + protocol.DEFAULT_KILL_GRACE_SECONDS + NODE_LOST_MARGIN_SECONDS
    return _after(parse_time(pod.running.get("startedAt")), limit)


def start_deadline(spec: Spec, pod: PodView) -> datetime | None:
    """When a pod that has not started the code fails as StartDeadlineExceeded."""
    return _after(pod.created, spec.start_deadline_seconds)


def creation_deadline(execution: Mapping[str, Any], spec: Spec) -> datetime:
    """Until when the attempt's objects may still be created (transient API errors)."""
    current = execution.get("status") or {}
    recorded = parse_time(current.get("attemptTime")) or parse_time(
        execution["metadata"].get("creationTimestamp")
    )
    return _after(recorded, spec.start_deadline_seconds) or datetime.fromtimestamp(0, UTC)


# --- outcomes decided without a pod --------------------------------------------------


def cancelled() -> Outcome:
    """The outcome of a cancelled Execution (the runner's own report aside)."""
    return Outcome("Cancelled", Reason.CANCELLED, "The Execution was cancelled (spec.cancel).")


def invalid_spec(errors: Sequence[str]) -> Outcome:
    """The outcome of an Execution whose spec the operator cannot run."""
    return Outcome(
        "Failed",
        Reason.INVALID_SPEC,
        f"The spec is invalid: {'; '.join(errors)}. Fix it and apply the Execution again.",
    )


def creation_deadline_exceeded(spec: Spec, last_error: str) -> Outcome:
    """The attempt's pod could not be created before its start deadline."""
    return Outcome(
        "Failed",
        Reason.START_DEADLINE_EXCEEDED,
        f"The attempt's pod could not be created within startDeadlineSeconds "
        f"({spec.start_deadline_seconds}s); the last error: {last_error}. Check the API "
        "server's health, or raise spec.startDeadlineSeconds.",
        retryable=True,
    )


# --- classifying ----------------------------------------------------------------------


def classify(spec: Spec, pod: PodView | None, now: datetime) -> Outcome:  # noqa: PLR0911 - one return per pod situation
    """The attempt's outcome as far as the pod shows it (None: the pod is gone)."""
    if pod is None:
        if spec.cancel:
            return cancelled()
        return Outcome(
            "Failed",
            Reason.POD_FAILED,
            "The pod was deleted before the code finished; apply the Execution again "
            "or set spec.retries to re-run after such failures.",
            retryable=True,
        )
    if pod.finished:
        return _finished(spec, pod)
    if pod.waiting.get("reason") in CONFIG_ERRORS:
        return _cannot_start(spec, pod)
    if pod.running:
        lost = running_deadline(spec, pod)
        if lost is not None and now >= lost:
            return Outcome(
                "Failed",
                Reason.NODE_LOST,
                f"Pod {pod.name} still shows as running {NODE_LOST_MARGIN_SECONDS}s past its "
                f"timeout (node {pod.node} stopped reporting); "
                "it was deleted. Set spec.retries to re-run after such failures.",
                retryable=True,
            )
        return Outcome("Running", None, f"The code is running in pod {pod.name}.")
    deadline = start_deadline(spec, pod)
    if deadline is not None and now >= deadline:
        if pod.waiting.get("reason") in IMAGE_ERRORS:
            return _cannot_start(spec, pod)
        return Outcome(
            "Failed",
            Reason.START_DEADLINE_EXCEEDED,
            f"The pod did not start the code within startDeadlineSeconds "
            f"({spec.start_deadline_seconds}s){_pending_detail(pod)}; check the node capacity, "
            "the image and the referenced ConfigMaps and Secrets, or raise "
            "spec.startDeadlineSeconds.",
            retryable=True,
        )
    return Outcome("Pending", None, f"Waiting for pod {pod.name} to start{_pending_detail(pod)}.")


def _pending_detail(pod: PodView) -> str:
    """Why a pod has not started yet, as a clause; empty on the normal way to a start.

    Each new message is a status write: a container being created is what
    "Waiting for pod … to start" already says, so it adds no clause.
    """
    reason = pod.waiting.get("reason")
    if reason and reason != "ContainerCreating":
        message = pod.waiting.get("message")
        return f" ({reason}: {message})" if message else f" ({reason})"
    if pod.unscheduled is not None:
        return f" (not scheduled: {pod.unscheduled})"
    return ""


def _cannot_start(spec: Spec, pod: PodView) -> Outcome:
    reason = pod.waiting.get("reason", "")
    detail = pod.waiting.get("message") or reason
    if reason in IMAGE_ERRORS:  # retried by the kubelet until the start deadline
        message = (
            f"The runner image {pod.image} could not be pulled within startDeadlineSeconds "
            f"({spec.start_deadline_seconds}s) ({reason}: {detail}); check spec.image, "
            "the operator's runner image setting and spec.podTemplate.imagePullSecrets."
        )
        return Outcome("Failed", Reason.START_DEADLINE_EXCEEDED, message, retryable=True)
    missing = _MISSING_OBJECT.search(detail)
    what = (
        f"{missing.group(1).capitalize()} {missing.group(2)!r} does not exist"
        if missing
        else detail
    )
    message = (
        f"The pod cannot start: {what} ({reason}); create it or fix the reference in "
        "spec.env, spec.envFrom or spec.logs.credentialsSecretRef, then apply again."
    )
    return Outcome("Failed", Reason.POD_FAILED, message)


def _finished(spec: Spec, pod: PodView) -> Outcome:  # noqa: PLR0911 - one return per way to end
    """A pod whose container (or the pod itself) has terminated."""
    term = pod.termination
    reported = term.get(TerminationKey.REASON) if term else None
    if pod.reason == "DeadlineExceeded":  # the kubelet's activeDeadlineSeconds backstop
        if pod.started_at is None:
            return Outcome(
                "Failed",
                Reason.START_DEADLINE_EXCEEDED,
                "The pod never started the code before its deadline; check the node capacity, "
                "the image and the referenced ConfigMaps and Secrets.",
                retryable=True,
            )
        return Outcome("Failed", Reason.TIMEOUT, _default_message(spec, Reason.TIMEOUT))
    if reported in protocol.ALL_REASONS:
        if reported == Reason.CANCELLED and not spec.cancel:
            return _stopped_from_outside(pod)
        message = str(term.get(TerminationKey.MESSAGE) or "") if term else ""
        return Outcome(_phase_of(reported), reported, message or _default_message(spec, reported))
    if pod.terminated.get("reason") == "OOMKilled":
        return Outcome(
            "Failed",
            Reason.OOM_KILLED,
            "The container ran out of memory and was killed; raise "
            "spec.resources.limits.memory, or set spec.rlimits.memory below it to get a "
            "MemoryLimitExceeded error from the code instead.",
        )
    if pod.reason or not pod.terminated:
        return _stopped_from_outside(pod)
    exit_code = int(pod.terminated.get("exitCode", 0))
    if exit_code >= 128:  # killed by a signal it did not get to report
        return _stopped_from_outside(pod)
    return Outcome(
        "Failed",
        Reason.RUNNER_ERROR,
        f"The runner exited with code {exit_code} without reporting an outcome; see "
        f"`kubectl logs {pod.name}` and report it if it persists.",
    )


def _stopped_from_outside(pod: PodView) -> Outcome:
    why = pod.message or pod.reason or "deleted, evicted or its node lost"
    return Outcome(
        "Failed",
        Reason.POD_FAILED,
        f"The pod {pod.name} was stopped from outside ({why}); apply the Execution again "
        "or set spec.retries to re-run after such failures.",
        retryable=True,
    )


def _phase_of(reason: str) -> str:
    if reason == Reason.COMPLETED:
        return "Succeeded"
    return "Cancelled" if reason == Reason.CANCELLED else "Failed"


def _default_message(spec: Spec, reason: str) -> str:
    """A sentence for a reason the runner reported without a message."""
    messages = {
        Reason.COMPLETED: "The code finished successfully.",
        Reason.TIMEOUT: f"The code ran longer than timeoutSeconds ({spec.timeout_seconds}s) and "
        "was stopped; make it faster or raise spec.timeoutSeconds.",
        Reason.USER_ERROR: "The code raised an exception; see status.error and fix the code.",
        Reason.CANCELLED: "The Execution was cancelled (spec.cancel).",
    }
    return messages.get(
        reason,
        f"The execution failed with {reason}; see the API reference for what it means.",
    )
