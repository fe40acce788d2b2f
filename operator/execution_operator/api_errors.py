"""What a failed API call means: refused for good, someone else's object, or worth a retry."""

from __future__ import annotations

import json

from kubernetes.client.exceptions import ApiException


def is_status(exc: BaseException, *codes: int) -> bool:
    return isinstance(exc, ApiException) and exc.status in codes


class RefusedError(Exception):
    """The API server refused to create an object for good (4xx but 409/429)."""

    def __init__(self, kind: str, name: str, message: str) -> None:
        super().__init__(f"{kind} {name!r}: {message}")
        self.kind = kind
        self.name = name
        self.message = message


def _api_message(exc: ApiException) -> str:
    """The API server's own message for a refused call (else the HTTP reason)."""
    try:
        body = json.loads(exc.body or "{}")
    except ValueError:
        body = {}
    return str((body.get("message") if isinstance(body, dict) else None) or exc.reason or "")


def describe_error(exc: BaseException) -> str:
    """A failed call in one clause, e.g. `HTTP 503: etcdserver: request timed out`."""
    if isinstance(exc, ApiException):
        message = _api_message(exc)
        return f"HTTP {exc.status}: {message}" if message else f"HTTP {exc.status}"
    return f"{type(exc).__name__}: {exc}"


def permanent_refusal(exc: ApiException) -> str | None:
    """The API's message when `exc` will not change on retry; None when it may."""
    if exc.status is None or not 400 <= exc.status < 500 or exc.status in (409, 429):
        return None
    message = _api_message(exc)
    # A full ResourceQuota frees up as other pods finish: retried, like a Job's pods.
    if exc.status == 403 and "exceeded quota" in message:
        return None
    return message or f"HTTP {exc.status}"


class NotOursError(Exception):
    """An object with the name we need exists, but its controller is someone else."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"{kind} {name!r}")
        self.kind = kind
        self.name = name
