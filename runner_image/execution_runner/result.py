"""The result: the `result` global from the report, else the last non-empty stdout line."""

from __future__ import annotations

from execution_runner import fastjson, protocol
from execution_runner.output import Line
from execution_runner.protocol import Reason

# `typing` and `collections.abc` cost milliseconds of start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class ResultProblem(Exception):
    """The code finished but its result cannot be delivered (reason, readable message)."""

    def __init__(self, reason: str, message: str, from_last_line: bool = False) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        # The last stdout line was the (rejected) result, so it is not a log record.
        self.from_last_line = from_last_line


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN/Infinity: Kubernetes would reject them


def parse_line(line: Line) -> tuple[bool, Any]:
    """(True, value) if the whole line is JSON, else (False, None)."""
    try:
        return True, fastjson.loads(line.data, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return False, None


def _too_large(size: int | str, limit: int, from_last_line: bool = False) -> ResultProblem:
    return ResultProblem(
        Reason.RESULT_TOO_LARGE,
        f"The result is {size} bytes, more than maxResultBytes ({limit}); "
        "return less data (e.g. write large outputs elsewhere) or raise maxResultBytes.",
        from_last_line,
    )


def check_size(value: Any, limit: int, from_last_line: bool = False) -> None:
    try:
        size = len(protocol.canonical_json(value))
    except UnicodeEncodeError as exc:
        raise ResultProblem(
            Reason.INVALID_RESULT,
            f"The result is not valid JSON text ({exc.reason}); return only valid Unicode strings.",
        ) from exc
    if size > limit:
        raise _too_large(size, limit, from_last_line)


def from_report(report: dict[str, Any], overflow: bool, limit: int) -> tuple[bool, Any]:
    """(True, value) when the code set `result`; (False, None) when it did not."""
    if overflow:
        raise _too_large(f"more than {limit}", limit)
    if not report.get("hasResult"):
        return False, None
    value = report.get("result")
    check_size(value, limit)
    return True, value


def from_last_line(line: Line | None, limit: int, required: bool) -> tuple[bool, Any]:
    """Seed style: the last non-empty stdout line, if it is JSON. (False, None) if not."""
    if line is not None and line.truncated and line.data.lstrip()[:1] in (b"{", b"[", b'"'):
        raise _too_large(f"at least {line.length}", limit, from_last_line=True)
    if line is not None and not line.truncated:
        parsed, value = parse_line(line)
        if parsed:
            check_size(value, limit, from_last_line=True)
            return True, value
    if required:
        raise ResultProblem(
            Reason.INVALID_RESULT,
            "The code set no `result` and its last stdout line is not JSON, but a result "
            "is required; assign `result` or print the result as JSON on the last line.",
        )
    return False, None
