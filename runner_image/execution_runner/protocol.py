"""The contract between the operator and the runner, in one stdlib-only module.

The operator writes the payload files and reads the termination message and the
framed result line; the runner reads the payload and writes both. Both sides
import this module, so names and formats cannot drift apart.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Final

# --- payload directory (a ConfigMap mounted read-only) -----------------------
PAYLOAD_DIR_ENV: Final = "EXECUTION_PAYLOAD_DIR"
DEFAULT_PAYLOAD_DIR: Final = "/var/run/execution"
CODE_FILE: Final = "code.py"
INPUT_FILE: Final = "input.json"
RUNNER_CONFIG_FILE: Final = "runner.json"

# --- environment of the runner (never passed to the user code) --------------
TERMINATION_LOG_ENV: Final = "EXECUTION_TERMINATION_LOG"
DEFAULT_TERMINATION_LOG: Final = "/dev/termination-log"
LOGS_API_KEY_ENV: Final = "EXECUTION_LOGS_API_KEY"
LOGS_WORKSPACE_ENV: Final = "EXECUTION_LOGS_WORKSPACE"
POD_NAME_ENV: Final = "EXECUTION_POD_NAME"
NODE_NAME_ENV: Final = "EXECUTION_NODE_NAME"
# Names with these prefixes never reach the user process, declared or not.
FORBIDDEN_ENV_PREFIXES: Final = ("KUBERNETES_", "EXECUTION_LOGS_")

# --- termination message ------------------------------------------------------
TERMINATION_MESSAGE_MAX_BYTES: Final = 4096
DEFAULT_MAX_RESULT_BYTES: Final = 256 * 1024

# --- status codes (the seed executor's convention; clients rely on it) -------
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


# --- the framed result line (last line of the container's stdout) ------------
RESULT_KEY: Final = "execution_result"
SHA256_KEY: Final = "sha256"


def canonical_json(value: Any) -> bytes:
    """The bytes the result's sha256 and size are computed over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def result_sha256(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def frame_result(value: Any) -> str:
    """The runner's last stdout line: the result and its checksum (no newline)."""
    return json.dumps(
        {RESULT_KEY: value, SHA256_KEY: result_sha256(value)},
        separators=(",", ":"),
        ensure_ascii=False,
    )


class FramedResultError(ValueError):
    """The framed result line is missing, malformed or fails its checksum."""


def parse_framed_result(line: str) -> Any:
    """Inverse of `frame_result`; raises FramedResultError on any mismatch."""
    try:
        obj = json.loads(line)
    except ValueError as exc:
        raise FramedResultError(f"result line is not JSON: {exc}") from exc
    if not isinstance(obj, dict) or RESULT_KEY not in obj or SHA256_KEY not in obj:
        raise FramedResultError("result line lacks execution_result/sha256")
    value = obj[RESULT_KEY]
    if result_sha256(value) != obj[SHA256_KEY]:
        raise FramedResultError("result sha256 does not match")
    return value
