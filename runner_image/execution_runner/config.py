"""runner.json, parsed and checked: every key optional, wrong types name the key.

Plain classes rather than dataclasses: `dataclasses` imports `inspect` (~20 ms),
and nothing heavy may load before the user code starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from execution_runner import protocol
from execution_runner.errors import RunnerError


class EnvFromSource:
    """A marker the operator put in front of the names of one `envFrom` source."""

    __slots__ = ("prefix", "secret")

    def __init__(self, prefix: str, secret: bool) -> None:
        self.prefix = prefix
        self.secret = secret


class RunnerConfig:
    """What the runner needs besides the code and the input; defaults in `protocol`."""

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
        logs: Mapping[str, Any] | None = None,
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
        self.logs: dict[str, Any] = dict(logs or {})
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


def _number(doc: Mapping[str, Any], key: str, default: float, minimum: float) -> float:
    value = doc.get(key)
    if value is None:
        return default
    if not (_is_int(value) or isinstance(value, float)) or not minimum <= value < float("inf"):
        raise _fail(key, f"a number >= {minimum:g}", value)
    return float(value)


def _integer(doc: Mapping[str, Any], key: str, default: int, minimum: int, path: str = "") -> int:
    value = doc.get(key)
    if value is None:
        return default
    if not _is_int(value) or value < minimum:
        raise _fail(path + key, f"an integer >= {minimum}", value)
    return int(value)


def _boolean(doc: Mapping[str, Any], key: str, default: bool) -> bool:
    value = doc.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _fail(key, "true or false", value)
    return value


def _object(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = doc.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(key, "an object", value)
    return value


def _names(doc: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = doc.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(n, str) and n for n in value):
        raise _fail(key, "a list of environment variable names", value)
    return tuple(value)


def _rlimits(doc: Mapping[str, Any]) -> dict[str, int]:
    section = _object(doc, "rlimits")
    limits: dict[str, int] = {}
    for key in protocol.RLIMIT_KEYS:
        value = section.get(key)
        if value is None:
            value = protocol.DEFAULT_RLIMITS.get(key)
        if value is None:
            continue  # not set
        if not _is_int(value) or value < 0:
            raise _fail(f"rlimits.{key}", "a non-negative integer or null", value)
        limits[key] = int(value)
    return limits


def _env_from(doc: Mapping[str, Any]) -> tuple[EnvFromSource, ...]:
    value = doc.get("envFrom")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail("envFrom", "a list", value)
    sources = []
    for item in value:
        # A bare string is a marker of a non-secret source.
        entry = {"prefix": item} if isinstance(item, str) else item
        prefix = entry.get("prefix") if isinstance(entry, Mapping) else None
        secret = entry.get("secret", False) if isinstance(entry, Mapping) else None
        if not isinstance(prefix, str) or not prefix or not isinstance(secret, bool):
            raise _fail("envFrom[]", "{prefix: string, secret: bool}", item)
        sources.append(EnvFromSource(prefix, secret))
    return tuple(sources)


def _execution(doc: Mapping[str, Any]) -> dict[str, str]:
    section = _object(doc, "execution")
    return {key: str(value) for key, value in section.items() if value is not None}


def parse_runner_config(doc: Any) -> RunnerConfig:
    """Checks runner.json's parsed JSON; unknown keys are ignored."""
    if not isinstance(doc, Mapping):
        raise _fail("(top level)", "a JSON object", doc)
    logs = _object(doc, "logs")
    return RunnerConfig(
        timeout_seconds=_number(doc, "timeoutSeconds", protocol.DEFAULT_TIMEOUT_SECONDS, 0.001),
        rlimits=_rlimits(doc),
        threads=_integer(doc, "threads", protocol.DEFAULT_THREADS, 1),
        env=_names(doc, "env"),
        secret_env=_names(doc, "secretEnv"),
        env_from=_env_from(doc),
        logs=logs,
        max_result_bytes=_integer(doc, "maxResultBytes", protocol.DEFAULT_MAX_RESULT_BYTES, 0),
        require_result=_boolean(doc, "requireResult", False),
        execution=_execution(doc),
        kill_grace_seconds=_number(
            doc, "killGraceSeconds", protocol.DEFAULT_KILL_GRACE_SECONDS, 0.0
        ),
    )
