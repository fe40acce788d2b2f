"""json.loads/json.dumps on the C accelerator, without importing `json` and `re` (~6 ms).

Same results as the `json` module; anything unusual (an error, a BOM, bytes in
another encoding, an interpreter without `_json`) falls back to `json` itself,
so messages and edge cases stay exactly those of the stdlib.
"""

from __future__ import annotations

# `typing` costs milliseconds of start-up; the annotations need it only for checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_WHITESPACE = " \t\n\r"


def _constant(name: str) -> float:
    return {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}[name]


class _Context:
    """What the C scanner reads from a JSONDecoder."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    def __init__(self, parse_constant: Callable[[str], Any]) -> None:
        self.parse_constant = parse_constant


def _stdlib_loads(text: str | bytes, parse_constant: Callable[[str], Any] | None) -> Any:
    import json  # noqa: PLC0415  # the rare path: errors and odd input

    return json.loads(text, parse_constant=parse_constant)


def loads(text: str | bytes, parse_constant: Callable[[str], Any] | None = None) -> Any:
    """json.loads(text, parse_constant=...)."""
    try:
        from _json import make_scanner  # noqa: PLC0415
    except ImportError:
        return _stdlib_loads(text, parse_constant)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:  # UTF-16/32 (json detects them) or invalid
            return _stdlib_loads(text, parse_constant)
    start = len(text) - len(text.lstrip(_WHITESPACE))
    if text.startswith("\ufeff"):
        return _stdlib_loads(text, parse_constant)
    try:
        value, end = make_scanner(_Context(parse_constant or _constant))(  # type: ignore[arg-type]
            text, start
        )
    except (StopIteration, ValueError, SystemError):
        # The scanner raises json's errors only once `json.decoder` is loaded.
        return _stdlib_loads(text, parse_constant)  # raises json's own error
    if text[end:].strip(_WHITESPACE):
        return _stdlib_loads(text, parse_constant)  # "Extra data"
    return value


def _refuse(obj: Any) -> Any:
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def dumps(
    value: Any,
    *,
    ensure_ascii: bool = True,
    allow_nan: bool = True,
    sort_keys: bool = False,
    default: Callable[[Any], Any] | None = None,
) -> str:
    """json.dumps(value, separators=(",", ":"), ...): compact."""
    try:
        from _json import (  # noqa: PLC0415
            encode_basestring,
            encode_basestring_ascii,
            make_encoder,
        )
    except ImportError:  # an interpreter without the C accelerator
        import json  # noqa: PLC0415

        return json.dumps(
            value,
            ensure_ascii=ensure_ascii,
            allow_nan=allow_nan,
            sort_keys=sort_keys,
            default=default,
            separators=(",", ":"),
        )
    encode = make_encoder(
        {},  # markers: circular references raise ValueError
        default or _refuse,
        encode_basestring_ascii if ensure_ascii else encode_basestring,
        None,  # indent
        ":",
        ",",
        sort_keys,
        False,  # skipkeys
        allow_nan,
    )
    return "".join(encode(value, 0))
