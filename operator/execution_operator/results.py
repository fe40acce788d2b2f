"""The code's result: from the termination message when it fits, else the framed log line.

Either way it is verified against the sha256 (and size) the runner reported.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from execution_runner import protocol
from execution_runner.protocol import TerminationKey

ERROR_KEYS: Final = (
    protocol.ErrorKey.TYPE,
    protocol.ErrorKey.MESSAGE,
    protocol.ErrorKey.TRACEBACK,
)


@dataclass(frozen=True)
class ResultRead:
    """The verified result (inline or framed), or the problem that prevented reading it."""

    value: Any = None
    # The user code's {type, message, traceback}, untruncated, when the runner framed one.
    error: dict[str, Any] | None = None
    problem: str | None = None


def inline_result(termination: Mapping[str, Any] | None) -> ResultRead | None:
    """The result the runner put in the termination message, if it matches its checksum.

    None when absent (too large to fit) or not matching: then the pod's log is read.
    """
    if not termination or TerminationKey.RESULT not in termination:
        return None
    value = termination[TerminationKey.RESULT]
    size = len(protocol.canonical_json(value))
    if termination.get(TerminationKey.RESULT_SHA256) != protocol.result_sha256(value):
        return None
    if termination.get(TerminationKey.RESULT_BYTES) != size:
        return None
    return ResultRead(value=value)


def read_result(log_tail: str, termination: Mapping[str, Any] | None) -> ResultRead:
    """The framed result from the end of the log, checked against the termination message."""
    # Only "\n" ends a log line: str.splitlines() would also split inside the JSON
    # at U+2028, U+2029, U+0085 and other separators that json.dumps leaves raw.
    for line in reversed(log_tail.split("\n")):
        if line.startswith('{"' + protocol.RESULT_KEY + '"'):
            break
    else:
        return ResultRead(problem="the result line is missing from the pod's log")
    try:
        value = protocol.parse_framed_result(line)
    except protocol.FramedResultError as exc:
        return ResultRead(problem=str(exc))
    expected = (termination or {}).get(TerminationKey.RESULT_SHA256)
    if expected and expected != protocol.result_sha256(value):
        return ResultRead(problem="the result does not match the sha256 the runner reported")
    error = json.loads(line).get(protocol.ERROR_KEY)
    return ResultRead(value=value, error=known_keys(error, ERROR_KEYS))


def known_keys(section: Any, names: Sequence[str]) -> dict[str, Any] | None:
    if not isinstance(section, Mapping):
        return None
    # Empty strings are left out: nothing is lost, and some API servers read "" as null.
    picked = {name: section[name] for name in names if section.get(name) not in (None, "")}
    return picked or None
