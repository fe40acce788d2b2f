"""Log records: one line of the user code's output becomes one JSON record.

A line that is a JSON object with a `message` (what the child's `logging` emits)
gives the record its message; its other keys, including any `timestamp`,
`level` and `logger_name` it sets, become attributes. The record's own
timestamp (arrival), level and logger name (from the stream) are always the
collector's, so the code cannot backdate or disguise a record. Any other line
is a plain record. Every record also carries the common attributes (the
Execution's identity and `logs.attributes`), which the user code cannot override.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from json.encoder import encode_basestring
from typing import Any, Final

from execution_runner.protocol import rfc3339
from execution_runner.redact import Redactor
from execution_runner.streams import STDERR, STDOUT

# stderr carries tracebacks and warnings; ERROR is a level every backend accepts.
LEVEL_FOR_STREAM: Final = {STDOUT: "INFO", STDERR: "ERROR"}
# Which stream a record came from, on every record.
STREAM_ATTRIBUTE: Final = "stream"
# Identity keys are prefixed so they cannot collide with `logs.attributes`.
IDENTITY_PREFIX: Final = "execution_"

TIMESTAMP: Final = "timestamp"
LEVEL: Final = "level"
LOGGER_NAME: Final = "logger_name"
MESSAGE: Final = "message"
ATTRIBUTES: Final = "attributes"
_PLAIN_START: Final = b'{"' + TIMESTAMP.encode() + b'":"'
_COMPACT: Final = (",", ":")
# json.dumps of a str without its per-call overhead (the C quoting routine).
_quote: Callable[[str], str] = encode_basestring


def common_attributes(identity: Mapping[str, str], attributes: Mapping[str, str]) -> dict[str, str]:
    """`logs.attributes` plus the prefixed identity; the identity wins on a clash."""
    merged = {str(key): str(value) for key, value in attributes.items()}
    merged.update({IDENTITY_PREFIX + key: str(value) for key, value in identity.items()})
    return merged


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; such a line stays a plain record.
    raise ValueError(name)


def parse_json_fields(line: str) -> dict[str, Any] | None:
    """The fields of a structured log line, or None for a plain line."""
    if not (line.startswith("{") and line.endswith("}")):
        return None
    try:
        fields = json.loads(line, parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return None
    if not isinstance(fields, dict) or MESSAGE not in fields:
        return None
    return fields


def redact_value(value: Any, redact: Redactor) -> Any:
    """`value` with every secret removed from its strings, keys and numbers."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(key)): redact_value(item, redact) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_value(item, redact) for item in value]
    if value is None or isinstance(value, bool):
        return value
    text = str(value)  # a numeric secret must not survive as a JSON number
    redacted = redact(text)
    return value if redacted == text else redacted


def _utf8(text: str) -> bytes:
    # A lone surrogate (undecodable output) becomes "?" instead of failing the record.
    return text.encode("utf-8", "replace")


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def parse_line(stream: str, line: str, arrival: float, redact: Redactor) -> dict[str, Any]:
    """The record of one output line; `attributes` holds only the line's own extras."""
    fields = parse_json_fields(line)
    record = {
        TIMESTAMP: rfc3339(arrival),
        LEVEL: LEVEL_FOR_STREAM[stream],
        LOGGER_NAME: stream,
        MESSAGE: redact(line),
        ATTRIBUTES: {},
    }
    if fields is None:
        return record
    if redact:
        # After decoding: a secret may sit JSON-escaped in the line, or as a number.
        fields = redact_value(fields, redact)
    extras = {key: value for key, value in fields.items() if key not in (MESSAGE, ATTRIBUTES)}
    nested = fields.get(ATTRIBUTES)
    if isinstance(nested, dict):
        extras.update(nested)
    elif nested is not None:
        extras[ATTRIBUTES] = nested
    record[MESSAGE] = _as_text(fields[MESSAGE])
    record[ATTRIBUTES] = extras
    return record


class RecordEncoder:
    """Turns output lines into the UTF-8 JSON of complete records."""

    def __init__(self, common: Mapping[str, str], redact: Redactor) -> None:
        self._redact = redact
        self._common = {str(key): redact(str(value)) for key, value in common.items()}
        # Plain lines are most lines: their fixed parts are encoded once.
        self._plain_parts = {stream: self._plain_template(stream) for stream in LEVEL_FOR_STREAM}

    def _attributes(self, stream: str, extras: Mapping[str, Any]) -> dict[str, Any]:
        return {**extras, **self._common, STREAM_ATTRIBUTE: stream}

    def _plain_template(self, stream: str) -> tuple[bytes, bytes]:
        head = f'","{LEVEL}":{json.dumps(LEVEL_FOR_STREAM[stream])},'
        head += f'"{LOGGER_NAME}":{json.dumps(stream)},"{MESSAGE}":'
        attributes = json.dumps(
            self._attributes(stream, {}), ensure_ascii=False, separators=_COMPACT
        )
        tail = f',"{ATTRIBUTES}":{attributes}}}'
        return _utf8(head), _utf8(tail)

    def encode(self, stream: str, line: str, arrival: float) -> bytes:
        """One record's JSON; never raises for any text."""
        if line.startswith("{"):
            record = parse_line(stream, line, arrival, self._redact)
            record[ATTRIBUTES] = self._attributes(stream, record[ATTRIBUTES])
            return _utf8(json.dumps(record, ensure_ascii=False, separators=_COMPACT, default=str))
        head, tail = self._plain_parts[stream]
        message = _utf8(_quote(self._redact(line)))
        stamp = _utf8(rfc3339(arrival))
        return b"".join((_PLAIN_START, stamp, head, message, tail))
