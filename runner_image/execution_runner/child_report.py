"""The child's report (bootstrap.py) read strictly: anything malformed is the code's doing.

The report pipe is shared with the user code (same process), so after the
bootstrap's STARTED_MARK every byte may be forged. Only well-formed reports of
the known shapes are used; everything else is reported as FORGED.
"""

from __future__ import annotations

from execution_runner import bootstrap, fastjson

# `typing` and `collections.abc` cost milliseconds of start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

# The code wrote to the report channel: a user outcome, never a runner failure.
FORGED: Final = "forged"
_STATUSES: Final = frozenset(
    {
        bootstrap.STATUS_OK,
        bootstrap.STATUS_ERROR,
        bootstrap.STATUS_INVALID_RESULT,
        bootstrap.STATUS_BOOTSTRAP_ERROR,
    }
)


class ChildReport:
    """`status` is one of bootstrap's STATUS_* or FORGED; None: no report at all."""

    __slots__ = ("doc", "started", "status")

    def __init__(self, started: bool, status: str | None, doc: dict[str, Any]) -> None:
        self.started = started  # the user code began to run
        self.status = status
        self.doc = doc


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _well_formed(doc: dict[str, Any]) -> bool:
    status = doc.get("status")
    if status == bootstrap.STATUS_OK:
        return isinstance(doc.get("hasResult"), bool)
    if status in (bootstrap.STATUS_INVALID_RESULT, bootstrap.STATUS_BOOTSTRAP_ERROR):
        return _text(doc.get("message"))
    error, chain = doc.get("error"), doc.get("chain", [])
    if not isinstance(error, dict) or not all(_text(v) for v in error.values()):
        return False
    return isinstance(chain, list) and all(
        isinstance(link, dict)
        and _text(link.get("type"))
        and _text(link.get("message", ""))
        and (link.get("errno") is None or type(link.get("errno")) is int)
        for link in chain
    )


def parse_child_report(raw: bytes, overflow: bool) -> ChildReport:
    started = raw.startswith(bootstrap.STARTED_MARK)
    body = raw[len(bootstrap.STARTED_MARK) :] if started else raw
    if not body and not overflow:
        return ChildReport(started, None, {})
    try:
        doc = fastjson.loads(body)
    except (ValueError, RecursionError):
        doc = None
    if overflow or not isinstance(doc, dict) or doc.get("status") not in _STATUSES:
        # An oversized report is a too-large result, judged by the caller.
        return ChildReport(started, None if overflow else FORGED, {})
    if not _well_formed(doc):
        return ChildReport(started, FORGED, {})
    if started and doc["status"] == bootstrap.STATUS_BOOTSTRAP_ERROR:
        return ChildReport(started, FORGED, {})  # only the bootstrap may say so, before the mark
    return ChildReport(started, doc["status"], doc)
