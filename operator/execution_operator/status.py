"""The status patches the controller writes, and their conditions (pure functions).

`status_for_pod` turns the outcome (`outcomes.classify`), the runner's
termination message and the verified result into the patch. Patches set fields
a new attempt must clear to None, which a JSON merge patch turns into a deletion.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from execution_runner import protocol
from execution_runner.protocol import Reason, TerminationKey

from . import models
from .outcomes import Outcome, classify
from .podview import PodView, format_time, parse_time
from .results import ERROR_KEYS, ResultRead, known_keys

Body = Mapping[str, Any]
METRIC_KEYS: Final = protocol.METRIC_KEYS
LOG_COUNTER_KEYS: Final = protocol.LOGS_COUNTER_KEYS
# Fields of a previous attempt's outcome that a new attempt clears.
OUTCOME_FIELDS: Final = ("reason", "code", "result", "error", "completionTime", "metrics", "logs")


@dataclass(frozen=True)
class StatusUpdate:
    """A status patch and the outcome it reports (for Events and retries)."""

    outcome: Outcome
    patch: dict[str, Any]


def status_for_pod(
    execution: Body,
    spec: models.ExecutionSpec,
    pod: PodView | None,
    *,
    attempt: int,
    now: datetime,
    result: ResultRead | None = None,
) -> StatusUpdate:
    """The status patch for the attempt's pod (None: it is gone).

    For a Completed pod with `pod.has_result`, pass its verified result (`results`).
    """
    outcome = classify(spec, pod, now)
    verified = result is not None and result.problem is None
    if outcome.reason == Reason.COMPLETED and pod is not None and pod.has_result and not verified:
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
        "observedGeneration": _generation(execution),
    }
    if pod is not None:
        patch["podName"] = pod.name
        patch["startTime"] = pod.started_at
    if outcome.terminal:
        patch.update(_terminal_fields(outcome, pod, now))
        if result is not None and verified:
            if outcome.reason == Reason.COMPLETED:
                patch["result"] = result.value
            patch["error"] = result.error or patch["error"]  # the framed one is untruncated
    patch["conditions"] = conditions_for(execution, outcome, patch["observedGeneration"], now)
    return StatusUpdate(outcome, patch)


def _terminal_fields(outcome: Outcome, pod: PodView | None, now: datetime) -> dict[str, Any]:
    assert outcome.reason is not None
    term = pod.termination if pod else None
    finished = pod.terminated.get("finishedAt") if pod else None
    fields: dict[str, Any] = {
        "reason": outcome.reason,
        "code": protocol.code_for(outcome.reason),
        "completionTime": finished or format_time(now),
        "metrics": _metrics(pod) if pod else None,
        "logs": _picked(term, TerminationKey.LOGS, LOG_COUNTER_KEYS),
        "error": _picked(term, TerminationKey.ERROR, ERROR_KEYS),
        "result": None,  # set by the caller for a verified Completed result
    }
    return fields


def _picked(
    term: Mapping[str, Any] | None, key: str, names: Sequence[str]
) -> dict[str, Any] | None:
    """The known keys of a termination-message section (unknown ones are not in the schema)."""
    return known_keys((term or {}).get(key), names)


def _metrics(pod: PodView) -> dict[str, Any] | None:
    metrics = _picked(pod.termination, TerminationKey.METRICS, METRIC_KEYS) or {}
    started = parse_time(pod.started_at)
    if pod.created is not None and started is not None:
        metrics["startupMs"] = max(0, round((started - pod.created).total_seconds() * 1000))
    return metrics or None


def _generation(execution: Body) -> int:
    """The generation this status describes: the Execution's own.

    Called only for the current run (a changed run starts anew first), so an older
    generation on the pod differs only in `cancel`, which this status acts on.
    """
    return int(execution["metadata"].get("generation", 1))


def pending_status(
    execution: Body, *, pod_name: str, attempt: int, now: datetime
) -> dict[str, Any]:
    """The patch when an attempt's pod is created: clears the previous attempt's outcome."""
    outcome = Outcome("Pending", None, f"Waiting for pod {pod_name} to start.")
    generation = _generation(execution)
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
    generation = _generation(execution)
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
