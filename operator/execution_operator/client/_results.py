"""The in-process executor's return shapes from an Execution's status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

USER_ERROR: Final = 400
SYSTEM_ERROR: Final = 500
TERMINAL_PHASES: Final = frozenset({"Succeeded", "Failed", "Cancelled"})


def is_terminal(status: Mapping[str, Any] | None) -> bool:
    return status is not None and status.get("phase") in TERMINAL_PHASES


def error_result(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "error": message}


def shape(name: str, status: Mapping[str, Any]) -> Any:
    """Success: the code's JSON result; otherwise `{"code": 400|500, "error": text}`."""
    phase = status.get("phase")
    if phase == "Succeeded":
        return status.get("result")
    code = USER_ERROR if status.get("code") == USER_ERROR else SYSTEM_ERROR
    return error_result(code, error_text(name, status))


def error_text(name: str, status: Mapping[str, Any]) -> str:
    """The user's traceback when there is one (it ends with `Type: message`), else the reason."""
    error = status.get("error") or {}
    traceback = (error.get("traceback") or "").rstrip()
    headline = ": ".join(p for p in (error.get("type"), error.get("message")) if p)
    message = status.get("message") or f"Execution {name} ended {status.get('phase')}."
    if traceback:
        text = traceback if headline and headline in traceback else f"{traceback}\n{headline}"
        return f"{text.rstrip()}\n({status.get('reason')}: {message})"
    if headline:
        return f"{headline}\n({status.get('reason')}: {message})"
    return f"{status.get('reason')}: {message}"
