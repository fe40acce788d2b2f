"""HTTP client of the log backend: one kept-alive connection, one POST per batch."""

from __future__ import annotations

import http.client
import random
from typing import Final, NamedTuple
from urllib.parse import urlsplit

# The log backend's protocol (docs/log-backend.md).
LOGS_WORKSPACE_HEADER: Final = "X-Workspace"
# Same value on every retry of one batch, so a backend can drop duplicates.
LOGS_BATCH_ID_HEADER: Final = "Idempotency-Key"

# Response bodies are read up to this size; a longer one costs the connection.
MAX_RESPONSE_BYTES: Final = 64 * 1024
USER_AGENT: Final = "execution-runner"
_TOO_MANY_REQUESTS: Final = 429
RETRY_INITIAL_SECONDS: Final = 0.1
RETRY_MAX_SECONDS: Final = 5.0


class PostResult(NamedTuple):
    delivered: bool
    retryable: bool
    detail: str
    retry_after: float | None = None  # seconds the backend asked to wait


def request_headers(api_key: str | None, workspace: str | None) -> dict[str, str]:
    """Headers of every batch request (the batch id is added per batch)."""
    headers = {
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
        "User-Agent": USER_AGENT,
    }
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    if workspace:
        headers[LOGS_WORKSPACE_HEADER] = workspace
    return headers


def backoff_delay(attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with equal jitter, in [d/2, d) for d = 0.1 s * 2**attempt <= 5 s.

    A Retry-After from the backend lengthens the delay, up to the same cap.
    """
    ceiling = min(RETRY_MAX_SECONDS, RETRY_INITIAL_SECONDS * 2 ** min(attempt, 32))
    delay: float = ceiling / 2 + random.random() * ceiling / 2  # noqa: S311 - jitter, not crypto
    return max(delay, min(retry_after or 0.0, RETRY_MAX_SECONDS))


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in delay-seconds form; the HTTP-date form is ignored."""
    if value is None or not value.strip().isdigit():
        return None
    return float(value.strip())


def classify(status: int, reason: str, retry_after: str | None) -> PostResult:
    """2xx delivered; 429 and 5xx worth retrying; anything else a rejection."""
    detail = f"HTTP {status} {reason}".strip()
    if 200 <= status < 300:
        return PostResult(delivered=True, retryable=False, detail=detail)
    retryable = status == _TOO_MANY_REQUESTS or 500 <= status < 600
    return PostResult(
        False, retryable, detail, parse_retry_after(retry_after) if retryable else None
    )


class BackendClient:
    """POSTs gzip-compressed JSON bodies to one endpoint."""

    def __init__(self, endpoint: str, headers: dict[str, str]) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"log endpoint is not an http(s) URL: {endpoint!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port  # raises ValueError on a malformed port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = headers
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        if self._conn is None:
            if self._https:
                import ssl  # noqa: PLC0415 - only an https endpoint pays for ssl

                self._conn = http.client.HTTPSConnection(
                    self._host, self._port, timeout=timeout, context=ssl.create_default_context()
                )
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        self._conn.timeout = timeout
        if self._conn.sock is not None:
            self._conn.sock.settimeout(timeout)
        return self._conn

    def _post_once(self, body: bytes, batch_id: str, timeout: float) -> PostResult:
        conn = self._connection(timeout)
        conn.request("POST", self._path, body, {**self._headers, LOGS_BATCH_ID_HEADER: batch_id})
        response = conn.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        if not response.isclosed() or response.will_close:
            self.close()  # unread body or server's choice: next batch starts afresh
        return classify(response.status, response.reason, response.getheader("Retry-After"))

    def post(self, body: bytes, batch_id: str, timeout: float) -> PostResult:
        """One delivery attempt; never raises for network or protocol errors."""
        reused = self._conn is not None and self._conn.sock is not None
        try:
            return self._post_once(body, batch_id, timeout)
        except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected) as exc:
            self.close()
            if not reused:
                return PostResult(False, True, f"{type(exc).__name__}: {exc}")
            # The server closed an idle kept-alive connection: one immediate fresh try.
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            return PostResult(False, True, f"{type(exc).__name__}: {exc}")
        try:
            return self._post_once(body, batch_id, timeout)
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            return PostResult(False, True, f"{type(exc).__name__}: {exc}")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
