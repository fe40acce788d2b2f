"""A submitted Execution: its status, result and logs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Final

from execution_runner import protocol

from . import _results
from ._api import ExecutionsApi
from ._watch import wait_for
from .errors import WaitTimeout

Body = dict[str, Any]
# Beyond timeoutSeconds and the start deadline: the runner's grace to stop and report.
WAIT_GRACE_SECONDS: Final = 30
DEFAULT_START_DEADLINE_SECONDS: Final = 300
_FRAME_START: Final = '{"' + protocol.RESULT_KEY + '"'
_STARTED: Final = frozenset({"Running"}) | _results.TERMINAL_PHASES


class ExecutionHandle:
    """One Execution: `wait()` for the result, `status`, `logs()`, `kill()`."""

    def __init__(self, api: ExecutionsApi, body: Body):
        self._api = api
        self.name: str = body["metadata"]["name"]
        self.namespace: str = api.namespace
        spec = body.get("spec", {})
        self.default_wait_seconds: float = (
            spec.get(protocol.RunnerConfigKey.TIMEOUT_SECONDS, 30)
            + spec.get("startDeadlineSeconds", DEFAULT_START_DEADLINE_SECONDS)
            + WAIT_GRACE_SECONDS
        )

    def __repr__(self) -> str:
        return f"ExecutionHandle({self.namespace}/{self.name})"

    def body(self) -> Body:
        """The Execution as the API server has it now."""
        return self._api.get(self.name)

    @property
    def status(self) -> Body:
        """The Execution's status now (phase, reason, code, result, error, metrics, ...)."""
        status: Body = self.body().get("status") or {}
        return status

    def done(self) -> bool:
        return _results.is_terminal(self.status)

    def wait_status(
        self, timeout: float | None = None, on_change: Callable[[Body], None] | None = None
    ) -> Body:
        """The terminal status; WaitTimeout after `timeout` (default: what the spec allows)."""
        body = wait_for(
            self._api.api,
            self.namespace,
            self.name,
            lambda obj: _results.is_terminal(obj.get("status")),
            self.default_wait_seconds if timeout is None else timeout,
            on_change=on_change,
        )
        status: Body = body.get("status") or {}
        return status

    def wait(self, timeout: float | None = None) -> Any:
        """The in-process executor's shape: the result, or {"code": 400|500, "error": ...}."""
        return _results.shape(self.name, self.wait_status(timeout))

    def cancel(self) -> None:
        """Ask the operator to stop it (spec.cancel=true); returns at once."""
        self._api.cancel(self.name)

    def kill(self, timeout: float = 2) -> bool:
        """Cancel and wait up to `timeout` seconds; True when it has ended."""
        if self.done():  # a finished one keeps its spec: no new generation for nothing
            return True
        self.cancel()
        try:
            self.wait_status(timeout)
        except WaitTimeout:
            return False
        return True

    def logs(self) -> str:
        """The code's output so far (the current pod's log); empty before it has one."""
        pod = self.status.get("podName")
        text = self._api.pod_log(pod) if pod else ""
        # "\n" only: the framed line may hold U+2028 and other separators unescaped.
        lines = text.split("\n")
        return "\n".join(line for line in lines if not _is_frame(line))

    def follow_logs(self, timeout: float | None = None) -> Iterator[str]:
        """Lines of the code's output as they come, until the pod ends."""
        body = wait_for(
            self._api.api,
            self.namespace,
            self.name,
            lambda obj: (obj.get("status") or {}).get("phase") in _STARTED,
            self.default_wait_seconds if timeout is None else timeout,
        )
        pod = body["status"].get("podName")
        if pod:
            yield from (line for line in self._api.follow_pod_log(pod) if not _is_frame(line))


def _is_frame(line: str) -> bool:
    """The runner's framed result line (the last of the pod's log), not the code's output."""
    if not line.startswith(_FRAME_START):
        return False
    try:
        protocol.parse_framed_result(line)
    except protocol.FramedResultError:
        return False
    return True
