"""`spec.logs` from the environment: the client's variables, else the in-process executor's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from execution_runner import protocol

from ..quantity import parse_quantity

# (spec.logs field, the client's variable, the in-process executor's variables)
LOG_VARIABLES: Final = (
    ("enabled", "EXECUTION_CLIENT_LOGS_ENABLED", ("SUBPROCESS_LOG_ENABLED",)),
    (
        "endpoint",
        "EXECUTION_CLIENT_LOGS_ENDPOINT",
        ("SUBPROCESS_LOG_BACKEND_URL", "OPIK_SUBPROCESS_LOG_BACKEND_URL"),
    ),
    (
        protocol.LogsKey.FLUSH_INTERVAL_MILLIS,
        "EXECUTION_CLIENT_LOGS_FLUSH_INTERVAL_MILLIS",
        ("SUBPROCESS_LOG_FLUSH_INTERVAL",),
    ),
    (
        protocol.LogsKey.MAX_BATCH_BYTES,
        "EXECUTION_CLIENT_LOGS_MAX_BATCH_BYTES",
        ("SUBPROCESS_LOG_MAX_SIZE",),
    ),
    ("credentialsSecretRef", "EXECUTION_CLIENT_LOGS_CREDENTIALS_SECRET", ()),
)
_TRUE: Final = frozenset({"true", "1", "yes", "on"})
_FALSE: Final = frozenset({"false", "0", "no", "off"})


def logs_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """The `spec.logs` fields the environment sets; empty: the operator's defaults."""
    logs: dict[str, Any] = {}
    for field, own, legacy in LOG_VARIABLES:
        variable = next((v for v in (own, *legacy) if environ.get(v, "").strip()), None)
        if variable is None:
            continue
        logs[field] = _parse(field, variable, environ[variable].strip())
    return logs


def _parse(field: str, variable: str, text: str) -> Any:
    if field == "enabled":
        if text.lower() not in _TRUE | _FALSE:
            raise ValueError(f"{variable}={text!r}: expected true or false")
        return text.lower() in _TRUE
    if field == protocol.LogsKey.FLUSH_INTERVAL_MILLIS:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{variable}={text!r}: expected milliseconds") from None
    if field == protocol.LogsKey.MAX_BATCH_BYTES:
        try:
            parse_quantity(text)
        except ValueError:
            raise ValueError(f"{variable}={text!r}: expected bytes or a quantity") from None
        return int(text) if text.isdigit() else text
    if field == "credentialsSecretRef":
        return {"name": text}
    if not text.startswith(("http://", "https://")):
        raise ValueError(f"{variable}={text!r}: expected an http(s) URL")
    return text
