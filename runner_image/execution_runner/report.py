"""The outcome, told twice: the termination message (<= 4096 bytes) and the framed result line."""

from __future__ import annotations

from execution_runner import fastjson, protocol
from execution_runner.outcome import Outcome
from execution_runner.protocol import (
    ErrorDoc,
    ErrorKey,
    ExitStatus,
    LogCounters,
    MetricsDoc,
    Reason,
    TerminationKey,
    TerminationMessage,
)

# `typing` and `collections.abc` cost milliseconds of start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from execution_runner.supervise import ChildExit

TRUNCATION_MARK = "…[truncated]"
_ERROR = TerminationKey.ERROR
# Shortened in this order when the message is too long: the traceback keeps its
# end (the raising frame), the texts keep their start; the error goes before the message.
SHRINK_ORDER = (
    (_ERROR, ErrorKey.TRACEBACK, True),
    (_ERROR, ErrorKey.MESSAGE, False),
    (None, TerminationKey.MESSAGE, False),
)


def metrics(child: ChildExit | None) -> MetricsDoc:
    if child is None or child.rusage is None:
        return MetricsDoc(executionMs=0, peakRssBytes=0, cpuUserSeconds=0.0, cpuSystemSeconds=0.0)
    usage = child.rusage
    return MetricsDoc(
        executionMs=round(child.wall * 1000),
        peakRssBytes=usage.ru_maxrss * 1024,  # Linux reports KiB
        cpuUserSeconds=round(usage.ru_utime, 3),
        cpuSystemSeconds=round(usage.ru_stime, 3),
    )


def termination_document(
    outcome: Outcome, child: ChildExit | None, logs: LogCounters
) -> TerminationMessage:
    framed = protocol.canonical_json(outcome.result)
    doc = TerminationMessage(
        code=outcome.code,
        reason=outcome.reason,
        message=outcome.message,
        resultSha256=protocol.result_sha256(outcome.result),
        resultBytes=len(framed),
        metrics=metrics(child),
        logs=logs,
    )
    if child is not None and child.started_at:
        doc[TerminationKey.STARTED_AT] = protocol.rfc3339(child.started_at)
    if outcome.error is not None:
        doc[TerminationKey.ERROR] = ErrorDoc(
            type=outcome.error.get(ErrorKey.TYPE, ""),
            message=outcome.error.get(ErrorKey.MESSAGE, ""),
            traceback=outcome.error.get(ErrorKey.TRACEBACK, ""),
        )
    if outcome.reason == Reason.COMPLETED:
        doc[TerminationKey.RESULT] = outcome.result  # `fit` drops it if it does not fit
    return doc


def _encode(doc: Mapping[str, Any]) -> bytes:
    return fastjson.dumps(doc, ensure_ascii=False).encode()


def _shortened(text: str, keep: int, keep_end: bool) -> str:
    if keep >= len(text):
        return text
    if keep_end:
        return TRUNCATION_MARK + text[len(text) - keep :] if keep else ""
    return text[:keep] + TRUNCATION_MARK if keep else ""


def fit(doc: Mapping[str, Any], max_bytes: int = protocol.TERMINATION_MESSAGE_MAX_BYTES) -> bytes:
    """The document as JSON of at most `max_bytes`, shortening the long texts if needed."""
    doc = {**doc, _ERROR: dict(doc[_ERROR])} if _ERROR in doc else dict(doc)
    if TerminationKey.RESULT in doc and len(_encode(doc)) > max_bytes:
        del doc[TerminationKey.RESULT]  # the framed result line carries it
    for section, key, keep_end in SHRINK_ORDER:
        if len(_encode(doc)) <= max_bytes:
            break
        if section is None:
            doc.pop(_ERROR, None)  # the sentence matters more than the details
        holder = doc.get(section, {}) if section else doc
        text = holder.get(key)
        if not isinstance(text, str):
            continue
        # Binary search for the longest kept part that fits (escapes make chars != bytes).
        low, high = 0, len(text)
        while low < high:
            middle = (low + high + 1) // 2
            holder[key] = _shortened(text, middle, keep_end)
            if len(_encode(doc)) <= max_bytes:
                low = middle
            else:
                high = middle - 1
        holder[key] = _shortened(text, low, keep_end)
    return _encode(doc)


def exit_status(reason: str) -> int:
    if reason == Reason.COMPLETED:
        return ExitStatus.COMPLETED
    if reason == Reason.RUNNER_ERROR:
        return ExitStatus.RUNNER_ERROR
    if protocol.code_for(reason) == protocol.CODE_USER_ERROR:
        return ExitStatus.USER_FAILURE
    return ExitStatus.SYSTEM_FAILURE
