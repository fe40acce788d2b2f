"""The `logs` section of runner.json, with defaults; a bad value falls back to its default."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from execution_runner import protocol


class LogSettings:
    """Plain class: `dataclasses` would import `inspect`, which costs start-up time."""

    __slots__ = (
        "attributes",
        "enabled",
        "endpoint",
        "flush_interval",
        "max_batch_bytes",
        "max_queue_bytes",
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
    ) -> None:
        self.enabled = enabled
        self.endpoint = endpoint
        self.attributes: dict[str, str] = dict(attributes or {})
        self.flush_interval = flush_interval  # seconds
        self.max_batch_bytes = max_batch_bytes
        self.max_queue_bytes = max_queue_bytes

    @property
    def shipping(self) -> bool:
        """Lines go to a backend (otherwise they are only mirrored by the runner)."""
        return self.enabled and bool(self.endpoint)

    @property
    def wake_bytes(self) -> int:
        """Queued bytes that start a batch before the flush interval ends."""
        return max(1, min(self.max_batch_bytes // 4, self.max_queue_bytes // 8))


def _positive(value: Any, default: int) -> int:
    # bool is an int; a stray `true` must not become a 1-byte bound.
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return int(value)
    return default


def log_settings(logs: Mapping[str, Any] | None) -> LogSettings:
    logs = logs or {}
    endpoint = logs.get("endpoint")
    attributes = logs.get("attributes")
    interval_ms = _positive(
        logs.get("flushIntervalMillis"), protocol.DEFAULT_LOGS_FLUSH_INTERVAL_MILLIS
    )
    return LogSettings(
        enabled=logs.get("enabled", True) is not False,
        endpoint=endpoint if isinstance(endpoint, str) and endpoint.strip() else None,
        attributes=(
            {str(key): str(value) for key, value in attributes.items()}
            if isinstance(attributes, Mapping)
            else {}
        ),
        flush_interval=interval_ms / 1000,
        max_batch_bytes=_positive(logs.get("maxBatchBytes"), protocol.DEFAULT_LOGS_MAX_BATCH_BYTES),
        max_queue_bytes=_positive(logs.get("maxQueueBytes"), protocol.DEFAULT_LOGS_MAX_QUEUE_BYTES),
    )
