"""Status codes, reasons and the runner's exit status."""

from __future__ import annotations

# `typing` costs milliseconds of the runner's start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

# --- status codes and reasons (the seed executor's convention) ---------------
CODE_OK: Final = 200
CODE_USER_ERROR: Final = 400
CODE_SYSTEM_ERROR: Final = 500


class Reason:
    """Values of `status.reason` (and of `reason` in the termination message)."""

    COMPLETED: Final = "Completed"
    USER_ERROR: Final = "UserError"
    TIMEOUT: Final = "Timeout"
    MEMORY_LIMIT_EXCEEDED: Final = "MemoryLimitExceeded"
    CPU_LIMIT_EXCEEDED: Final = "CpuLimitExceeded"
    STACK_LIMIT_EXCEEDED: Final = "StackLimitExceeded"
    PROCESS_LIMIT_EXCEEDED: Final = "ProcessLimitExceeded"
    FILE_SIZE_LIMIT_EXCEEDED: Final = "FileSizeLimitExceeded"
    OOM_KILLED: Final = "OOMKilled"
    RESULT_TOO_LARGE: Final = "ResultTooLarge"
    INVALID_RESULT: Final = "InvalidResult"
    START_DEADLINE_EXCEEDED: Final = "StartDeadlineExceeded"
    POD_FAILED: Final = "PodFailed"
    # The pod still claims to run long after the code's deadline: its node is gone.
    NODE_LOST: Final = "NodeLost"
    # The API server refused the attempt's Pod or ConfigMap for good (a 4xx).
    POD_REJECTED: Final = "PodRejected"
    # Another object holds the attempt's Pod or ConfigMap name: never adopted nor run.
    NAME_CONFLICT: Final = "NameConflict"
    RUNNER_ERROR: Final = "RunnerError"
    INVALID_SPEC: Final = "InvalidSpec"
    CANCELLED: Final = "Cancelled"


ALL_REASONS: Final = tuple(
    v for k, v in vars(Reason).items() if not k.startswith("_") and isinstance(v, str)
)
# Reasons the user code is responsible for (code 400); every other failure is 500.
USER_REASONS: Final = frozenset(
    {
        Reason.USER_ERROR,
        Reason.MEMORY_LIMIT_EXCEEDED,
        Reason.CPU_LIMIT_EXCEEDED,
        Reason.STACK_LIMIT_EXCEEDED,
        Reason.PROCESS_LIMIT_EXCEEDED,
        Reason.FILE_SIZE_LIMIT_EXCEEDED,
        Reason.RESULT_TOO_LARGE,
        Reason.INVALID_RESULT,
    }
)


def code_for(reason: str) -> int:
    """The HTTP-like status code that goes with a reason."""
    if reason == Reason.COMPLETED:
        return CODE_OK
    return CODE_USER_ERROR if reason in USER_REASONS else CODE_SYSTEM_ERROR


class ExitStatus:
    """The runner's exit status; the termination message has the details."""

    COMPLETED: Final = 0
    USER_FAILURE: Final = 1  # an outcome with code 400
    SYSTEM_FAILURE: Final = 2  # an outcome with code 500 (Timeout, Cancelled, OOMKilled)
    RUNNER_ERROR: Final = 3  # the runner itself failed (bad payload, internal error)
