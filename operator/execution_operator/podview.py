"""What one pod shows, read once: the runner container's state, the runner's
termination message and the times the decisions depend on."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from execution_runner.protocol import TerminationKey

from .builders import CONTAINER_NAME

Body = Mapping[str, Any]
State = Mapping[str, Any]


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


def _runner_container(pod: Body) -> Mapping[str, Any]:
    for status in pod.get("status", {}).get("containerStatuses") or []:
        if status.get("name") == CONTAINER_NAME:
            return status  # type: ignore[no-any-return]
    return {}


def _parsed_message(terminated: State) -> dict[str, Any] | None:
    text = terminated.get("message")
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class PodView:
    """One pod as the controller sees it (build with `PodView.of`)."""

    name: str
    phase: str | None
    # The pod's own status.reason/message (e.g. DeadlineExceeded, Evicted).
    reason: str | None
    message: str | None
    waiting: State
    running: State
    terminated: State
    # The runner's JSON summary, None when absent or not a JSON object.
    termination: dict[str, Any] | None
    created: datetime | None
    node: str
    image: str
    deleting: bool
    # The PodScheduled=False condition's message (or reason), None when scheduled.
    unscheduled: str | None

    @classmethod
    def of(cls, pod: Body) -> PodView:
        meta = pod.get("metadata", {})
        status = pod.get("status", {})
        state = _runner_container(pod).get("state", {})
        terminated = state.get("terminated") or {}
        unscheduled = next(
            (
                c.get("message") or c.get("reason")
                for c in status.get("conditions") or []
                if c.get("type") == "PodScheduled" and c.get("status") == "False"
            ),
            None,
        )
        return cls(
            name=str(meta.get("name", "?")),
            phase=status.get("phase"),
            reason=status.get("reason"),
            message=status.get("message"),
            waiting=state.get("waiting") or {},
            running=state.get("running") or {},
            terminated=terminated,
            termination=_parsed_message(terminated),
            created=parse_time(meta.get("creationTimestamp")),
            node=str(pod.get("spec", {}).get("nodeName", "?")),
            image=str(
                next((c.get("image") for c in pod.get("spec", {}).get("containers", [])), "?")
            ),
            deleting=bool(meta.get("deletionTimestamp")),
            unscheduled=unscheduled,
        )

    @property
    def finished(self) -> bool:
        """The pod or its runner container has ended."""
        return self.phase in ("Succeeded", "Failed") or bool(self.terminated)

    @property
    def started_at(self) -> str | None:
        """When the user code (else the runner container) started."""
        term = self.termination or {}
        return (
            term.get(TerminationKey.STARTED_AT)
            or self.running.get("startedAt")
            or self.terminated.get("startedAt")
        )

    @property
    def has_result(self) -> bool:
        """The runner reported a result (or error) whose framed line can be verified."""
        return bool(self.termination and self.termination.get(TerminationKey.RESULT_SHA256))
