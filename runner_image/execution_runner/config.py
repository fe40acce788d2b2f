"""runner.json, parsed and checked in one place: every key optional, wrong types name the key.

Plain classes rather than dataclasses: `dataclasses` imports `inspect` (~20 ms),
and nothing heavy may load before the user code starts. Keys and defaults are
the protocol's; unknown keys are ignored (a newer operator may add some).
"""

from __future__ import annotations

from execution_runner import protocol
from execution_runner.errors import RunnerError
from execution_runner.protocol import (
    EnvFromKey,
    LogsKey,
    LogsOverflow,
    RunnerConfigKey,
)

# `typing` and `collections.abc` cost milliseconds of start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

_OVERFLOW_POLICIES = (LogsOverflow.BLOCK, LogsOverflow.DROP)


class EnvFromSource:
    """A marker the operator put in front of the names of one `envFrom` source."""

    __slots__ = ("prefix", "secret")

    def __init__(self, prefix: str, secret: bool) -> None:
        self.prefix = prefix
        self.secret = secret


class LogSettings:
    """runner.json `logs`: where and how the collector ships the code's output."""

    __slots__ = (
        "attributes",
        "enabled",
        "endpoint",
        "flush_interval",
        "max_batch_bytes",
        "max_queue_bytes",
        "overflow",
    )

    def __init__(
        self,
        *,
        enabled: bool = True,
        endpoint: str | None = None,
        attributes: Mapping[str, str] | None = None,
        flush_interval: float = protocol.DEFAULT_LOGS_FLUSH_INTERVAL_MILLIS / 1000,
        max_batch_bytes: int = protocol.DEFAULT_LOGS_MAX_BATCH_BYTES,
        max_queue_bytes: int = protocol.DEFAULT_LOGS_MAX_QUEUE_BYTES,
        overflow: str = protocol.DEFAULT_LOGS_OVERFLOW,
    ) -> None:
        self.enabled = enabled
        self.endpoint = endpoint
        self.attributes: dict[str, str] = dict(attributes or {})
        self.flush_interval = flush_interval  # seconds
        self.max_batch_bytes = max_batch_bytes
        self.max_queue_bytes = max_queue_bytes
        self.overflow = overflow  # a LogsOverflow value

    @property
    def shipping(self) -> bool:
        """Lines go to a backend (otherwise they are only mirrored by the runner)."""
        return self.enabled and bool(self.endpoint)

    @property
    def wake_bytes(self) -> int:
        """Queued bytes that start a batch before the flush interval ends."""
        return max(1, min(self.max_batch_bytes // 4, self.max_queue_bytes // 8))


class RunnerConfig:
    """What the runner needs besides the code and the input."""

    __slots__ = (
        "env",
        "env_from",
        "execution",
        "kill_grace_seconds",
        "logs",
        "max_result_bytes",
        "require_result",
        "rlimits",
        "secret_env",
        "threads",
        "timeout_seconds",
    )

    def __init__(
        self,
        *,
        timeout_seconds: float = protocol.DEFAULT_TIMEOUT_SECONDS,
        rlimits: Mapping[str, int] | None = None,
        threads: int = protocol.DEFAULT_THREADS,
        env: tuple[str, ...] = (),
        secret_env: tuple[str, ...] = (),
        env_from: tuple[EnvFromSource, ...] = (),
        logs: LogSettings | None = None,
        max_result_bytes: int = protocol.DEFAULT_MAX_RESULT_BYTES,
        require_result: bool = False,
        execution: Mapping[str, str] | None = None,
        kill_grace_seconds: float = protocol.DEFAULT_KILL_GRACE_SECONDS,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        # Only the limits that are set, keyed by their runner.json names.
        self.rlimits: dict[str, int] = (
            dict(rlimits) if rlimits is not None else dict(protocol.DEFAULT_RLIMITS)
        )
        self.threads = threads
        self.env = env
        self.secret_env = secret_env
        self.env_from = env_from
        self.logs = logs or LogSettings()
        self.max_result_bytes = max_result_bytes
        self.require_result = require_result
        # The Execution's identity (namespace, name, uid, attempt) as strings.
        self.execution: dict[str, str] = dict(execution or {})
        self.kill_grace_seconds = kill_grace_seconds


def _fail(key: str, expected: str, value: Any) -> RunnerError:
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return RunnerError(f"runner.json: `{key}` must be {expected}, got {shown}")


def _is_int(value: Any) -> bool:
    # bool is an int subclass; `true` is never a count.
    return isinstance(value, int) and not isinstance(value, bool)


class _Section:
    """One JSON object of runner.json and its path, with typed getters (null = default)."""

    def __init__(self, doc: Any, path: str) -> None:
        if doc is not None and not isinstance(doc, dict):
            raise _fail(path or "(top level)", "a JSON object", doc)
        self.doc: Mapping[str, Any] = doc or {}
        self.path = path

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def section(self, key: str) -> _Section:
        return _Section(self.doc.get(key), self.where(key))

    def number(self, key: str, default: float, minimum: float) -> float:
        value = self.doc.get(key)
        if value is None:
            return default
        if not (_is_int(value) or isinstance(value, float)) or not minimum <= value < float("inf"):
            raise _fail(self.where(key), f"a number >= {minimum:g}", value)
        return float(value)

    def integer(self, key: str, default: int, minimum: int) -> int:
        value = self.doc.get(key)
        if value is None:
            return default
        if not _is_int(value) or value < minimum:
            raise _fail(self.where(key), f"an integer >= {minimum}", value)
        return int(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.doc.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise _fail(self.where(key), "true or false", value)
        return value

    def text(self, key: str, choices: tuple[str, ...] | None = None) -> str | None:
        value = self.doc.get(key)
        if value is not None and (not isinstance(value, str) or (choices and value not in choices)):
            raise _fail(self.where(key), "one of " + ", ".join(choices or ("a string",)), value)
        return value

    def names(self, key: str) -> tuple[str, ...]:
        value = self.doc.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(n, str) and n for n in value):
            raise _fail(self.where(key), "a list of environment variable names", value)
        return tuple(value)

    def strings(self) -> dict[str, str]:
        """The section as a string map (values of other JSON types become their text)."""
        return {str(key): str(value) for key, value in self.doc.items() if value is not None}


def _rlimits(section: _Section) -> dict[str, int]:
    limits: dict[str, int] = {}
    for key in protocol.RLIMIT_KEYS:
        value = section.doc.get(key)
        if value is None:
            value = protocol.DEFAULT_RLIMITS.get(key)
        if value is None:
            continue  # not set
        if not _is_int(value) or value < 0:
            raise _fail(section.where(key), "a non-negative integer or null", value)
        limits[key] = int(value)
    return limits


def _env_from(doc: Mapping[str, Any]) -> tuple[EnvFromSource, ...]:
    value = doc.get(RunnerConfigKey.ENV_FROM)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail(RunnerConfigKey.ENV_FROM, "a list", value)
    sources = []
    for item in value:
        # A bare string is a marker of a non-secret source.
        entry = {EnvFromKey.PREFIX: item} if isinstance(item, str) else item
        if not isinstance(entry, dict):
            raise _fail(f"{RunnerConfigKey.ENV_FROM}[]", "{prefix: string, secret: bool}", item)
        prefix, secret = entry.get(EnvFromKey.PREFIX), entry.get(EnvFromKey.SECRET, False)
        if not isinstance(prefix, str) or not prefix or not isinstance(secret, bool):
            raise _fail(f"{RunnerConfigKey.ENV_FROM}[]", "{prefix: string, secret: bool}", item)
        sources.append(EnvFromSource(prefix, secret))
    return tuple(sources)


def _logs(section: _Section) -> LogSettings:
    endpoint = section.text(LogsKey.ENDPOINT)
    interval_ms = section.integer(
        LogsKey.FLUSH_INTERVAL_MILLIS, protocol.DEFAULT_LOGS_FLUSH_INTERVAL_MILLIS, 1
    )
    return LogSettings(
        enabled=section.boolean(LogsKey.ENABLED, True),
        endpoint=endpoint if endpoint and endpoint.strip() else None,
        attributes=section.section(LogsKey.ATTRIBUTES).strings(),
        flush_interval=interval_ms / 1000,
        max_batch_bytes=section.integer(
            LogsKey.MAX_BATCH_BYTES, protocol.DEFAULT_LOGS_MAX_BATCH_BYTES, 1
        ),
        max_queue_bytes=section.integer(
            LogsKey.MAX_QUEUE_BYTES, protocol.DEFAULT_LOGS_MAX_QUEUE_BYTES, 1
        ),
        overflow=section.text(LogsKey.OVERFLOW, _OVERFLOW_POLICIES)
        or protocol.DEFAULT_LOGS_OVERFLOW,
    )


def log_settings(logs: Any) -> LogSettings:
    """runner.json `logs` alone (for the collector's tests and benchmarks)."""
    return _logs(_Section(logs, RunnerConfigKey.LOGS))


def parse_runner_config(doc: Any) -> RunnerConfig:
    """Checks runner.json's parsed JSON; raises RunnerError naming the first bad key."""
    top = _Section(doc, "")
    key = RunnerConfigKey
    execution = top.section(key.EXECUTION).strings()  # ExecutionKey names, and any others
    return RunnerConfig(
        timeout_seconds=top.number(key.TIMEOUT_SECONDS, protocol.DEFAULT_TIMEOUT_SECONDS, 0.001),
        rlimits=_rlimits(top.section(key.RLIMITS)),
        threads=top.integer(key.THREADS, protocol.DEFAULT_THREADS, 1),
        env=top.names(key.ENV),
        secret_env=top.names(key.SECRET_ENV),
        env_from=_env_from(top.doc),
        logs=_logs(top.section(key.LOGS)),
        max_result_bytes=top.integer(key.MAX_RESULT_BYTES, protocol.DEFAULT_MAX_RESULT_BYTES, 0),
        require_result=top.boolean(key.REQUIRE_RESULT, False),
        execution=execution,
        kill_grace_seconds=top.number(
            key.KILL_GRACE_SECONDS, protocol.DEFAULT_KILL_GRACE_SECONDS, 0.0
        ),
    )
