"""runner.json: keys, document types and defaults (every key optional; null = default)."""

from __future__ import annotations

# `typing` costs milliseconds of the runner's start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final, TypedDict
else:
    from execution_runner.protocol.typed_dict import TypedDict


# --- runner.json (every key optional; null = the default) --------------------
class RunnerConfigKey:
    TIMEOUT_SECONDS: Final = "timeoutSeconds"
    RLIMITS: Final = "rlimits"
    THREADS: Final = "threads"
    ENV: Final = "env"  # names passed through to the code
    SECRET_ENV: Final = "secretEnv"  # noqa: S105 - names of secret values, passed through
    ENV_FROM: Final = "envFrom"  # [{prefix, secret}]
    LOGS: Final = "logs"
    MAX_RESULT_BYTES: Final = "maxResultBytes"
    REQUIRE_RESULT: Final = "requireResult"
    EXECUTION: Final = "execution"  # the Execution's identity, attached to log records
    KILL_GRACE_SECONDS: Final = "killGraceSeconds"


class RlimitKey:  # bytes, seconds or counts; null or absent = not set (or the default)
    STACK: Final = "stack"
    MEMORY: Final = "memory"
    CPU_SECONDS: Final = "cpuSeconds"
    OPEN_FILES: Final = "openFiles"
    PROCESSES: Final = "processes"
    FILE_SIZE: Final = "fileSize"


class EnvFromKey:
    PREFIX: Final = "prefix"
    SECRET: Final = "secret"  # noqa: S105 - a flag, not a password


class LogsKey:
    ENABLED: Final = "enabled"
    ENDPOINT: Final = "endpoint"
    ATTRIBUTES: Final = "attributes"
    FLUSH_INTERVAL_MILLIS: Final = "flushIntervalMillis"
    MAX_BATCH_BYTES: Final = "maxBatchBytes"
    MAX_QUEUE_BYTES: Final = "maxQueueBytes"
    OVERFLOW: Final = "overflow"  # a LogsOverflow value


class LogsOverflow:
    """What happens when the code prints faster than the backend takes the logs."""

    # The code's writes wait (the runner stops reading its output) while the backend
    # accepts; lines are dropped (counted) only while it is down or failing.
    BLOCK: Final = "block"
    # Never slow the code down: a full queue drops lines (counted).
    DROP: Final = "drop"


class ExecutionKey:
    NAMESPACE: Final = "namespace"
    NAME: Final = "name"
    UID: Final = "uid"
    ATTEMPT: Final = "attempt"


class RlimitsDoc(TypedDict, total=False):
    stack: int | None
    memory: int | None
    cpuSeconds: int | None
    openFiles: int | None
    processes: int | None
    fileSize: int | None


class EnvFromDoc(TypedDict):
    prefix: str
    secret: bool


class LogsDoc(TypedDict, total=False):
    enabled: bool
    endpoint: str | None
    attributes: dict[str, str]
    flushIntervalMillis: int
    maxBatchBytes: int
    maxQueueBytes: int
    overflow: str


class ExecutionDoc(TypedDict, total=False):
    namespace: str | None
    name: str
    uid: str
    attempt: int


class RunnerConfigDoc(TypedDict, total=False):
    timeoutSeconds: float
    rlimits: RlimitsDoc
    threads: int
    env: list[str]
    secretEnv: list[str]
    envFrom: list[EnvFromDoc]
    logs: LogsDoc
    maxResultBytes: int
    requireResult: bool
    execution: ExecutionDoc
    killGraceSeconds: float


RLIMIT_KEYS: Final = tuple(RlimitsDoc.__annotations__)
DEFAULT_TIMEOUT_SECONDS: Final = 30
DEFAULT_THREADS: Final = 1
DEFAULT_MAX_RESULT_BYTES: Final = 256 * 1024
# SIGTERM to the code's process group, then SIGKILL this much later.
DEFAULT_KILL_GRACE_SECONDS: Final = 2.0
DEFAULT_STACK_BYTES: Final = 20 * 1024 * 1024
# No single file (in /tmp, or the termination log outside /tmp's sizeLimit) grows
# past the default /tmp size.
DEFAULT_FILE_SIZE_BYTES: Final = 256 * 1024 * 1024
# Limits that always apply; null or absent in runner.json means the default.
DEFAULT_RLIMITS: Final = {
    RlimitKey.STACK: DEFAULT_STACK_BYTES,
    RlimitKey.FILE_SIZE: DEFAULT_FILE_SIZE_BYTES,
}
DEFAULT_LOGS_FLUSH_INTERVAL_MILLIS: Final = 1000
DEFAULT_LOGS_MAX_BATCH_BYTES: Final = 10 * 1024 * 1024
# Bound of the in-pod queue of lines not yet shipped (see LogsOverflow).
DEFAULT_LOGS_MAX_QUEUE_BYTES: Final = 32 * 1024 * 1024
DEFAULT_LOGS_OVERFLOW: Final = LogsOverflow.BLOCK
