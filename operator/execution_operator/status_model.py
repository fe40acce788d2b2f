"""The Execution's status as a pydantic model: the CRD's status schema and the shape
every status write must have (`status.py` builds the patches, unit tests check
them against it). Written by the operator only.
"""

from __future__ import annotations

from typing import Literal

from execution_runner import protocol
from pydantic import Field

from .api_types import AnyJson, ApiModel
from .models import Phase


class ErrorInfo(ApiModel):
    """The user code's error."""

    type: str | None = Field(default=None, description="Exception class, e.g. ValueError.")
    message: str | None = Field(default=None, description="Exception message.")
    traceback: str | None = Field(default=None, description="Traceback of the user's frames.")


class Metrics(ApiModel):
    """Measurements of the run."""

    startup_ms: int | None = Field(
        default=None, description="Pod creation until the user code started."
    )
    execution_ms: int | None = Field(default=None, description="Wall time of the user code.")
    peak_rss_bytes: int | None = Field(
        default=None, description="Peak resident memory of the user code."
    )
    cpu_user_seconds: float | None = Field(default=None, description="User CPU time.")
    cpu_system_seconds: float | None = Field(default=None, description="System CPU time.")


class LogCounters(ApiModel):
    """Counters of the log shipping."""

    records: int | None = Field(default=None, description="Records the log backend accepted.")
    bytes: int | None = Field(default=None, description="Bytes of the records.")
    batches: int | None = Field(default=None, description="Batches delivered.")
    failed_batches: int | None = Field(default=None, description="Batches given up on.")
    dropped: int | None = Field(
        default=None,
        description=(
            "Records not delivered: dropped by a full queue, in batches given up on, or unsent "
            "at the end; records + dropped = non-blank lines the code printed."
        ),
    )


class Condition(ApiModel):
    """A Kubernetes-style condition: Ready, Reconciling or Stalled."""

    type: str = Field(description="Ready, Reconciling or Stalled.")
    status: Literal["True", "False", "Unknown"] = Field(description="True, False or Unknown.")
    reason: str | None = Field(default=None, description="CamelCase reason.")
    message: str | None = Field(default=None, description="Human-readable details.")
    last_transition_time: str | None = Field(
        default=None, json_schema_extra={"format": "date-time"}, description="Last change."
    )
    observed_generation: int | None = Field(
        default=None, description="Generation the condition describes."
    )


class ExecutionStatus(ApiModel):
    """What happened; written by the operator only."""

    phase: Phase | None = Field(
        default=None, description="Pending, Running, Succeeded, Failed or Cancelled."
    )
    reason: Literal[protocol.ALL_REASONS] | None = Field(  # type: ignore[valid-type]
        default=None, description="Why the Execution is in its phase (see the API reference)."
    )
    message: str | None = Field(
        default=None, description="One sentence: what happened and what to do."
    )
    code: int | None = Field(
        default=None, description="200 success, 400 user error, 500 system error."
    )
    result: AnyJson | None = Field(default=None, description="The JSON result of the code.")
    error: ErrorInfo | None = Field(default=None, description="The user code's error.")
    pod_name: str | None = Field(default=None, description="Pod of the current attempt.")
    attempts: int | None = Field(default=None, description="Pods started so far.")
    start_time: str | None = Field(
        default=None,
        json_schema_extra={"format": "date-time"},
        description="When the current attempt started.",
    )
    completion_time: str | None = Field(
        default=None, json_schema_extra={"format": "date-time"}, description="When it finished."
    )
    observed_generation: int | None = Field(
        default=None, description="The spec generation this status describes."
    )
    metrics: Metrics | None = Field(default=None, description="Measurements of the run.")
    logs: LogCounters | None = Field(default=None, description="Counters of the log shipping.")
    conditions: list[Condition] | None = Field(
        default=None, description="Ready, Reconciling and Stalled conditions."
    )
    run_spec_hash: str | None = Field(
        default=None,
        description="Hash of the spec (without cancel) the current run executes; "
        "a spec with another hash starts a new run.",
    )
    run_first_attempt: int | None = Field(
        default=None, description="The attempt the current run started with; retries count from it."
    )
    attempt_time: str | None = Field(
        default=None,
        json_schema_extra={"format": "date-time"},
        description="When the current attempt was recorded; until its pod exists, "
        "startDeadlineSeconds counts from it.",
    )
