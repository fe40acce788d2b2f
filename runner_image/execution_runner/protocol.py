"""The contract between the operator and the runner, in one stdlib-only module.

The operator writes the payload files and reads the termination message and the
framed result line; the runner reads the payload and writes both. Both sides
import this module, so names and formats cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
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
# How the runner starts (image entrypoint and the pod's command): isolated (-I),
# so no user-chosen variable or file in the working directory steers its interpreter.
RUNNER_COMMAND: Final = ("python3", "-I", "-m", "execution_runner")
# `spec.env[i]` reaches the pod as `EXECUTION_ENV_<name>`: only the child sees the
# plain name, never the runner's interpreter.
ENV_MARKER: Final = "EXECUTION_ENV_"
# Names that change how a process starts or belong to the runner/cluster: refused in
# `spec.env`, dropped (with a warning on stderr) when they arrive through `envFrom`.
RESERVED_ENV_PREFIXES: Final = ("PYTHON", "LD_", "EXECUTION_", "KUBERNETES_")
# Loader/libc variables without one of those prefixes that also steer process start-up.
RESERVED_ENV_NAMES: Final = frozenset({"GCONV_PATH", "GLIBC_TUNABLES", "LOCPATH", "NLSPATH"})


def env_name_reserved(name: str) -> bool:
    """True for names user env may not set (see RESERVED_ENV_PREFIXES)."""
    return name.startswith(RESERVED_ENV_PREFIXES) or name in RESERVED_ENV_NAMES


def env_marker_name(name: str) -> str:
    """The container variable that carries `spec.env` entry `name` to the runner."""
    return ENV_MARKER + name


# --- log backend (docs/log-backend.md) ----------------------------------------
LOGS_WORKSPACE_HEADER: Final = "X-Workspace"
# Same value on every retry of one batch, so a backend can drop duplicates.
LOGS_BATCH_ID_HEADER: Final = "Idempotency-Key"
DEFAULT_LOGS_FLUSH_INTERVAL_MILLIS: Final = 1000
DEFAULT_LOGS_MAX_BATCH_BYTES: Final = 10 * 1024 * 1024
# Bound of the in-pod queue of lines not yet shipped; overflow is dropped and counted.
# Holds a burst of ~200,000 short lines while the backend is slow or away.
DEFAULT_LOGS_MAX_QUEUE_BYTES: Final = 32 * 1024 * 1024
LOGS_COUNTER_KEYS: Final = ("records", "bytes", "batches", "failedBatches", "dropped")

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
ERROR_KEY: Final = "error"


def canonical_json(value: Any) -> bytes:
    """The bytes the result's sha256 and size are computed over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def result_sha256(value: Any) -> str:
    import hashlib  # noqa: PLC0415  # loads OpenSSL; the runner needs it only after the run

    return hashlib.sha256(canonical_json(value)).hexdigest()


def frame_result(value: Any, error: Mapping[str, Any] | None = None) -> str:
    """The runner's last stdout line: the result and its checksum (no newline).

    On failures the runner adds `error` ({type, message, traceback}, untruncated,
    secrets redacted); `parse_framed_result` ignores it.
    """
    framed: dict[str, Any] = {RESULT_KEY: value, SHA256_KEY: result_sha256(value)}
    if error is not None:
        framed[ERROR_KEY] = dict(error)
    return json.dumps(framed, separators=(",", ":"), ensure_ascii=False)


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


# --- additions the operator relies on ----------------------------------------
# Raw JSON of `data` when the Execution uses `inputFrom`: the user's ConfigMap
# key is projected here, and input.json then carries only `payload_type`.
INPUT_DATA_FILE: Final = "input-data.json"

# `envFrom` sources reach the pod with this marker in front of every name
# (`EXECUTION_ENVFROM_<index>_<user prefix><key>`); runner.json `envFrom` lists
# the markers in order, and the runner strips them before the user process
# sees the names. Declared `env` names win over `envFrom` ones, as in Kubernetes.
ENV_FROM_MARKER: Final = "EXECUTION_ENVFROM_"


def env_from_prefix(index: int) -> str:
    """The marker of the `index`-th `envFrom` source."""
    return f"{ENV_FROM_MARKER}{index}_"


class TerminationKey:
    """Keys of the termination-message JSON summary the operator reads."""

    CODE: Final = "code"
    REASON: Final = "reason"
    MESSAGE: Final = "message"
    RESULT_SHA256: Final = "resultSha256"
    RESULT_BYTES: Final = "resultBytes"
    METRICS: Final = "metrics"
    LOGS: Final = "logs"
    # Optional: {type, message, traceback} of a user error (traceback shortened to fit).
    ERROR: Final = "error"
    # Optional: RFC 3339 time the user code started (for status.metrics.startupMs).
    STARTED_AT: Final = "startedAt"


# --- runner.json defaults (every key is optional) -----------------------------
DEFAULT_TIMEOUT_SECONDS: Final = 30
DEFAULT_STACK_BYTES: Final = 20 * 1024 * 1024
# RLIMIT_FSIZE when runner.json sets none: no single file (in /tmp or the termination
# log, which lies outside /tmp's sizeLimit) grows past the default /tmp size.
DEFAULT_FILE_SIZE_BYTES: Final = 256 * 1024 * 1024
# Limits that always apply; null or absent in runner.json means the default.
DEFAULT_RLIMITS: Final = {"stack": DEFAULT_STACK_BYTES, "fileSize": DEFAULT_FILE_SIZE_BYTES}
DEFAULT_THREADS: Final = 1
# SIGTERM to the code's process group, then SIGKILL this much later.
DEFAULT_KILL_GRACE_SECONDS: Final = 2.0
# runner.json `rlimits` keys (bytes, seconds or counts; null or absent = not set).
RLIMIT_KEYS: Final = ("stack", "memory", "cpuSeconds", "openFiles", "processes", "fileSize")

# --- what the user process sees ------------------------------------------------
# The pod's /tmp is a private emptyDir, the only writable place.
_POD_TMP: Final = "/tmp"  # noqa: S108
BASELINE_ENV_DEFAULTS: Final = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": _POD_TMP,
    "LANG": "C.UTF-8",
    "TMPDIR": _POD_TMP,
}
THREAD_CAP_ENV: Final = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)
# Longer output lines are cut and marked before they are mirrored or shipped.
MAX_LOG_LINE_BYTES: Final = 64 * 1024


class ExitStatus:
    """The runner's exit status; the termination message has the details."""

    COMPLETED: Final = 0
    USER_FAILURE: Final = 1  # an outcome with code 400
    SYSTEM_FAILURE: Final = 2  # an outcome with code 500 (Timeout, Cancelled, OOMKilled)
    RUNNER_ERROR: Final = 3  # the runner itself failed (bad payload, internal error)
