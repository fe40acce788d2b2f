"""From what the pod shows to what the Execution's status says (pure functions).

`classify_pod` decides the outcome (phase, reason, message, retryable) from the
pod alone; `status_for_pod` turns it, the runner's termination message and the
verified result into the status patch. Patches set fields a new attempt must
clear to None, which a JSON merge patch turns into a deletion.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from execution_runner import protocol
from execution_runner.protocol import Reason, TerminationKey

from . import models, naming
from .builders import CONTAINER_NAME
from .validation import parse_spec

Body = Mapping[str, Any]

# Waiting reasons of an image that cannot be pulled (yet): named at the start deadline.
IMAGE_ERRORS: Final = frozenset(
    {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
)
# Past timeoutSeconds, the runner stops the code within its kill grace and the kubelet
# kills the pod within its termination grace; a pod "running" this much later than
# that is on a node that no longer reports (NodeLost).
NODE_LOST_MARGIN_SECONDS: Final = 120
CONFIG_ERRORS: Final = frozenset({"CreateContainerConfigError", "CreateContainerError"})
METRIC_KEYS: Final = protocol.METRIC_KEYS
LOG_COUNTER_KEYS: Final = protocol.LOGS_COUNTER_KEYS
ERROR_KEYS: Final = ("type", "message", "traceback")
# Fields of a previous attempt's outcome that a new attempt clears.
OUTCOME_FIELDS: Final = ("reason", "code", "result", "error", "completionTime", "metrics", "logs")
_MISSING_OBJECT: Final = re.compile(r'(secret|configmap) "([^"]+)" not found', re.IGNORECASE)


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


@dataclass(frozen=True)
class ResultRead:
    """The verified framed line from the pod's log, or the problem that prevented it."""

    value: Any = None
    # The user code's {type, message, traceback}, untruncated, when the runner framed one.
    error: dict[str, Any] | None = None
    problem: str | None = None


@dataclass(frozen=True)
class StatusUpdate:
    """A status patch and the outcome it reports (for Events and retries)."""

    outcome: Outcome
    patch: dict[str, Any]


# --- reading the pod ------------------------------------------------------------


def runner_status(pod: Body) -> Mapping[str, Any]:
    """The runner container's status ({} before the kubelet reports one)."""
    for status in pod.get("status", {}).get("containerStatuses") or []:
        if status.get("name") == CONTAINER_NAME:
            return status  # type: ignore[no-any-return]
    return {}


def _state(pod: Body, which: str) -> Mapping[str, Any]:
    return runner_status(pod).get("state", {}).get(which) or {}


def termination_message(pod: Body) -> dict[str, Any] | None:
    """The runner's JSON summary, or None when absent or not a JSON object."""
    text = _state(pod, "terminated").get("message")
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def needs_result(pod: Body) -> bool:
    """Whether the handler should read the framed line (result or error) from the pod's log."""
    term = termination_message(pod)
    return bool(term and term.get(TerminationKey.RESULT_SHA256))


def inline_result(termination: Mapping[str, Any] | None) -> ResultRead | None:
    """The result the runner put in the termination message, if it matches its checksum.

    None when absent (too large to fit) or not matching: then the pod's log is read.
    """
    if not termination or TerminationKey.RESULT not in termination:
        return None
    value = termination[TerminationKey.RESULT]
    size = len(protocol.canonical_json(value))
    if termination.get(TerminationKey.RESULT_SHA256) != protocol.result_sha256(value):
        return None
    if termination.get(TerminationKey.RESULT_BYTES) != size:
        return None
    return ResultRead(value=value)


def read_result(log_tail: str, termination: Mapping[str, Any] | None) -> ResultRead:
    """The framed result from the end of the log, checked against the termination message."""
    # Only "\n" ends a log line: str.splitlines() would also split inside the JSON
    # at U+2028, U+2029, U+0085 and other separators that json.dumps leaves raw.
    for line in reversed(log_tail.split("\n")):
        if line.startswith('{"' + protocol.RESULT_KEY + '"'):
            break
    else:
        return ResultRead(problem="the result line is missing from the pod's log")
    try:
        value = protocol.parse_framed_result(line)
    except protocol.FramedResultError as exc:
        return ResultRead(problem=str(exc))
    expected = (termination or {}).get(TerminationKey.RESULT_SHA256)
    if expected and expected != protocol.result_sha256(value):
        return ResultRead(problem="the result does not match the sha256 the runner reported")
    error = json.loads(line).get(protocol.ERROR_KEY)
    return ResultRead(value=value, error=_known(error, ERROR_KEYS))


def parse_time(text: str | None) -> datetime | None:
    """A Kubernetes timestamp (RFC 3339) as an aware datetime."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC, to the second, as Kubernetes writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _started_at(pod: Body) -> str | None:
    """When the user code (else the runner container) started."""
    term = termination_message(pod) or {}
    return (
        term.get(TerminationKey.STARTED_AT)
        or _state(pod, "running").get("startedAt")
        or _state(pod, "terminated").get("startedAt")
    )


def running_deadline(spec: models.ExecutionSpec, pod: Body) -> datetime | None:
    """When a pod whose code started counts as lost with its node."""
    started = parse_time(_state(pod, "running").get("startedAt"))
    if started is None:
        return None
    limit = spec.timeout_seconds + protocol.DEFAULT_KILL_GRACE_SECONDS + NODE_LOST_MARGIN_SECONDS
    return datetime.fromtimestamp(started.timestamp() + limit, UTC)


def start_deadline(spec: models.ExecutionSpec, pod: Body) -> datetime | None:
    """When a pod that has not started the code fails as StartDeadlineExceeded."""
    created = parse_time(pod.get("metadata", {}).get("creationTimestamp"))
    if created is None:
        return None
    return datetime.fromtimestamp(created.timestamp() + spec.start_deadline_seconds, UTC)


def creation_deadline(execution: Body, spec: models.ExecutionSpec) -> datetime:
    """Until when the attempt's objects may still be created (transient API errors)."""
    current = execution.get("status") or {}
    recorded = parse_time(current.get("attemptTime")) or parse_time(
        execution["metadata"].get("creationTimestamp")
    )
    base = recorded.timestamp() if recorded is not None else 0.0
    return datetime.fromtimestamp(base + spec.start_deadline_seconds, UTC)


def creation_deadline_exceeded(spec: models.ExecutionSpec, last_error: str) -> Outcome:
    """The attempt's pod could not be created before its start deadline."""
    return Outcome(
        "Failed",
        Reason.START_DEADLINE_EXCEEDED,
        f"The attempt's pod could not be created within startDeadlineSeconds "
        f"({spec.start_deadline_seconds}s); the last error: {last_error}. Check the API "
        "server's health, or raise spec.startDeadlineSeconds.",
        retryable=True,
    )


# --- classifying ------------------------------------------------------------------


def classify_pod(execution: Body, pod: Body | None, now: datetime) -> Outcome:  # noqa: PLR0911 - one return per pod situation
    """The attempt's outcome as far as the pod shows it (None: the pod is gone)."""
    spec = parse_spec(execution)
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
    phase = pod.get("status", {}).get("phase")
    if _state(pod, "terminated") or phase in ("Succeeded", "Failed"):
        return _finished(spec, pod)
    waiting = _state(pod, "waiting")
    if waiting.get("reason") in CONFIG_ERRORS:
        return _cannot_start(spec, pod, waiting)
    if _state(pod, "running"):
        lost = running_deadline(spec, pod)
        if lost is not None and now >= lost:
            return Outcome(
                "Failed",
                Reason.NODE_LOST,
                f"Pod {_name(pod)} still shows as running {NODE_LOST_MARGIN_SECONDS}s past its "
                f"timeout (node {pod.get('spec', {}).get('nodeName', '?')} stopped reporting); "
                "it was deleted. Set spec.retries to re-run after such failures.",
                retryable=True,
            )
        return Outcome("Running", None, f"The code is running in pod {_name(pod)}.")
    deadline = start_deadline(spec, pod)
    if deadline is not None and now >= deadline:
        if waiting.get("reason") in IMAGE_ERRORS:
            return _cannot_start(spec, pod, waiting)
        return Outcome(
            "Failed",
            Reason.START_DEADLINE_EXCEEDED,
            f"The pod did not start the code within startDeadlineSeconds "
            f"({spec.start_deadline_seconds}s){_pending_detail(pod)}; check the node capacity, "
            "the image and the referenced ConfigMaps and Secrets, or raise "
            "spec.startDeadlineSeconds.",
            retryable=True,
        )
    return Outcome("Pending", None, f"Waiting for pod {_name(pod)} to start{_pending_detail(pod)}.")


def _name(pod: Body) -> str:
    return str(pod.get("metadata", {}).get("name", "?"))


def cancelled() -> Outcome:
    """The outcome of a cancelled Execution (the runner's own report aside)."""
    return Outcome("Cancelled", Reason.CANCELLED, "The Execution was cancelled (spec.cancel).")


def _pending_detail(pod: Body) -> str:
    """Why a pod has not started yet, as a clause (empty when nothing is known)."""
    waiting = _state(pod, "waiting")
    reason = waiting.get("reason")
    if reason and reason != "ContainerCreating":
        message = waiting.get("message")
        return f" ({reason}: {message})" if message else f" ({reason})"
    for condition in pod.get("status", {}).get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return f" (not scheduled: {condition.get('message') or condition.get('reason')})"
    if reason:
        return " (creating the container)"
    return ""


def _cannot_start(spec: models.ExecutionSpec, pod: Body, waiting: Mapping[str, Any]) -> Outcome:
    reason = waiting.get("reason", "")
    detail = waiting.get("message") or reason
    if reason in IMAGE_ERRORS:  # retried by the kubelet until the start deadline
        image = next((c.get("image") for c in pod.get("spec", {}).get("containers", [])), "?")
        message = (
            f"The runner image {image} could not be pulled within startDeadlineSeconds "
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


def _finished(spec: models.ExecutionSpec, pod: Body) -> Outcome:  # noqa: PLR0911 - one return per way to end
    """A pod whose container (or the pod itself) has terminated."""
    pod_reason = pod.get("status", {}).get("reason")
    terminated = _state(pod, "terminated")
    term = termination_message(pod)
    reported = term.get(TerminationKey.REASON) if term else None
    if pod_reason == "DeadlineExceeded":  # the kubelet's activeDeadlineSeconds backstop
        if _started_at(pod) is None:
            return Outcome(
                "Failed",
                Reason.START_DEADLINE_EXCEEDED,
                "The pod never started the code before its deadline; check the node capacity, "
                "the image and the referenced ConfigMaps and Secrets.",
                retryable=True,
            )
        return _timeout(spec)
    if reported in protocol.ALL_REASONS:
        if reported == Reason.CANCELLED and not spec.cancel:
            return _stopped_from_outside(pod)
        message = str(term.get(TerminationKey.MESSAGE) or "") if term else ""
        return Outcome(_phase_of(reported), reported, message or _default_message(spec, reported))
    if terminated.get("reason") == "OOMKilled":
        return Outcome(
            "Failed",
            Reason.OOM_KILLED,
            "The container ran out of memory and was killed; raise "
            "spec.resources.limits.memory, or set spec.rlimits.memory below it to get a "
            "MemoryLimitExceeded error from the code instead.",
        )
    if pod_reason or not terminated:
        return _stopped_from_outside(pod)
    exit_code = int(terminated.get("exitCode", 0))
    if exit_code >= 128:  # killed by a signal it did not get to report
        return _stopped_from_outside(pod)
    return Outcome(
        "Failed",
        Reason.RUNNER_ERROR,
        f"The runner exited with code {exit_code} without reporting an outcome; see "
        f"`kubectl logs {_name(pod)}` and report it if it persists.",
    )


def _stopped_from_outside(pod: Body) -> Outcome:
    status = pod.get("status", {})
    why = status.get("message") or status.get("reason") or "deleted, evicted or its node lost"
    return Outcome(
        "Failed",
        Reason.POD_FAILED,
        f"The pod {_name(pod)} was stopped from outside ({why}); apply the Execution again "
        "or set spec.retries to re-run after such failures.",
        retryable=True,
    )


def _timeout(spec: models.ExecutionSpec) -> Outcome:
    return Outcome("Failed", Reason.TIMEOUT, _default_message(spec, Reason.TIMEOUT))


def _phase_of(reason: str) -> str:
    if reason == Reason.COMPLETED:
        return "Succeeded"
    return "Cancelled" if reason == Reason.CANCELLED else "Failed"


def _default_message(spec: models.ExecutionSpec, reason: str) -> str:
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


# --- the status patch -------------------------------------------------------------


def status_for_pod(
    execution: Body,
    pod: Body | None,
    *,
    attempt: int,
    now: datetime,
    result: ResultRead | None = None,
) -> StatusUpdate:
    """The status patch for the attempt's pod (None: it is gone).

    For a Completed pod with `needs_result(pod)`, pass the `read_result()` of its log.
    """
    outcome = classify_pod(execution, pod, now)
    term = termination_message(pod) if pod else None
    verified = result is not None and result.problem is None
    if outcome.reason == Reason.COMPLETED and needs_result(pod or {}) and not verified:
        why = result.problem if result else "the result was not read"
        outcome = Outcome(
            "Failed",
            Reason.RUNNER_ERROR,
            f"The code finished but its result could not be verified ({why}); "
            "run it again and report it if it persists.",
        )
    patch: dict[str, Any] = {
        "phase": outcome.phase,
        "message": outcome.message,
        "attempts": attempt,
        "observedGeneration": _generation(execution, pod),
    }
    if pod is not None:
        patch["podName"] = _name(pod)
        patch["startTime"] = _started_at(pod)
    if outcome.terminal:
        patch.update(_terminal_fields(outcome, pod, term, now))
        if result is not None and verified:
            if outcome.reason == Reason.COMPLETED:
                patch["result"] = result.value
            patch["error"] = result.error or patch["error"]  # the framed one is untruncated
    patch["conditions"] = conditions_for(execution, outcome, patch["observedGeneration"], now)
    return StatusUpdate(outcome, patch)


def _terminal_fields(
    outcome: Outcome, pod: Body | None, term: Mapping[str, Any] | None, now: datetime
) -> dict[str, Any]:
    assert outcome.reason is not None
    finished = _state(pod, "terminated").get("finishedAt") if pod else None
    fields: dict[str, Any] = {
        "reason": outcome.reason,
        "code": protocol.code_for(outcome.reason),
        "completionTime": finished or format_time(now),
        "metrics": _metrics(pod, term) if pod else None,
        "logs": _picked(term, TerminationKey.LOGS, LOG_COUNTER_KEYS),
        "error": _picked(term, TerminationKey.ERROR, ERROR_KEYS),
        "result": None,  # set by the caller for a verified Completed result
    }
    return fields


def _picked(
    term: Mapping[str, Any] | None, key: str, names: Sequence[str]
) -> dict[str, Any] | None:
    """The known keys of a termination-message section (unknown ones are not in the schema)."""
    return _known((term or {}).get(key), names)


def _known(section: Any, names: Sequence[str]) -> dict[str, Any] | None:
    if not isinstance(section, Mapping):
        return None
    # Empty strings are left out: nothing is lost, and some API servers read "" as null.
    picked = {name: section[name] for name in names if section.get(name) not in (None, "")}
    return picked or None


def _metrics(pod: Body, term: Mapping[str, Any] | None) -> dict[str, Any] | None:
    metrics = _picked(term, TerminationKey.METRICS, METRIC_KEYS) or {}
    created = parse_time(pod.get("metadata", {}).get("creationTimestamp"))
    started = parse_time(_started_at(pod))
    if created is not None and started is not None:
        metrics["startupMs"] = max(0, round((started - created).total_seconds() * 1000))
    return metrics or None


def _generation(execution: Body, pod: Body | None) -> int:
    """The spec generation the pod runs (the Execution's own when there is no pod)."""
    annotations = (pod or {}).get("metadata", {}).get("annotations") or {}
    value = annotations.get(naming.GENERATION_ANNOTATION)
    if value is not None and str(value).isdigit():
        return int(value)
    return int(execution["metadata"].get("generation", 1))


def pending_status(
    execution: Body, *, pod_name: str, attempt: int, now: datetime
) -> dict[str, Any]:
    """The patch when an attempt's pod is created: clears the previous attempt's outcome."""
    outcome = Outcome("Pending", None, f"Waiting for pod {pod_name} to start.")
    generation = int(execution["metadata"].get("generation", 1))
    return {
        **dict.fromkeys(OUTCOME_FIELDS),
        "phase": outcome.phase,
        "message": outcome.message,
        "podName": pod_name,
        "attempts": attempt,
        "attemptTime": format_time(now),
        "startTime": None,
        "observedGeneration": generation,
        "conditions": conditions_for(execution, outcome, generation, now),
    }


def terminal_status(execution: Body, outcome: Outcome, *, now: datetime) -> dict[str, Any]:
    """The patch for an outcome decided without a pod (InvalidSpec, cancelled before start)."""
    assert outcome.reason is not None
    generation = int(execution["metadata"].get("generation", 1))
    return {
        **dict.fromkeys(OUTCOME_FIELDS),
        "phase": outcome.phase,
        "reason": outcome.reason,
        "code": protocol.code_for(outcome.reason),
        "message": outcome.message,
        "completionTime": format_time(now),
        "observedGeneration": generation,
        "conditions": conditions_for(execution, outcome, generation, now),
    }


def invalid_spec(errors: Sequence[str]) -> Outcome:
    """The outcome of an Execution whose spec the operator cannot run."""
    return Outcome(
        "Failed",
        Reason.INVALID_SPEC,
        f"The spec is invalid: {'; '.join(errors)}. Fix it and apply the Execution again.",
    )


# --- conditions ---------------------------------------------------------------------

# Ready/Reconciling/Stalled are what kstatus (Flux, `kubectl wait`, Argo CD health
# scripts) understands: Ready=True on success, Stalled=True on failure.


def conditions_for(
    execution: Body, outcome: Outcome, generation: int, now: datetime
) -> list[dict[str, Any]]:
    """The three conditions, keeping lastTransitionTime of those that did not change."""
    previous = {c.get("type"): c for c in (execution.get("status") or {}).get("conditions") or []}
    reason = outcome.reason or outcome.phase
    wanted = (
        ("Ready", outcome.phase == "Succeeded"),
        ("Reconciling", not outcome.terminal),
        ("Stalled", outcome.phase in ("Failed", "Cancelled")),
    )
    conditions = []
    for kind, true in wanted:
        status = "True" if true else "False"
        before = previous.get(kind) or {}
        changed = before.get("status") != status
        conditions.append(
            {
                "type": kind,
                "status": status,
                "reason": reason,
                "message": outcome.message,
                "lastTransitionTime": format_time(now)
                if changed
                else before.get("lastTransitionTime", format_time(now)),
                "observedGeneration": generation,
            }
        )
    return conditions
