"""fastjson gives exactly what the json module gives, errors included."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from execution_runner import fastjson

DOCUMENTS = [
    '{"a": [1, 2.5, -3e5, null, true, false, "x\\u00e9\\ud83d\\ude00"], "b": {}}',
    '  [1, {"k": "v"}]\n',
    '"text"',
    "12345678901234567890",
    "[Infinity, -Infinity]",
    b'{"bytes": "\xc3\xa9"}',
    '{"lone": "\\ud800"}',
]
INVALID = ["", "   ", "{", "[1] extra", "{not json", "\ufeff{}", b"\xff\xfe"]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_loads_matches_json(text: str | bytes) -> None:
    assert repr(fastjson.loads(text)) == repr(json.loads(text))


def test_loads_nan_matches_json() -> None:
    assert math.isnan(fastjson.loads("NaN"))


@pytest.mark.parametrize("text", INVALID)
def test_loads_raises_json_errors(text: str | bytes) -> None:
    with pytest.raises(ValueError) as expected:
        json.loads(text)
    with pytest.raises(ValueError) as got:
        fastjson.loads(text)
    assert str(got.value) == str(expected.value)


def test_parse_constant_is_used() -> None:
    def reject(name: str) -> Any:
        raise ValueError(f"{name} rejected")

    with pytest.raises(ValueError, match="NaN rejected"):
        fastjson.loads("[1, NaN]", parse_constant=reject)


VALUE = {"b": 1, "a": [1.5, "é", None, True, 1e300], "c": {"z": "\ud800", "y": '\n\t"'}}


@pytest.mark.parametrize(
    "options", [{}, {"ensure_ascii": False}, {"sort_keys": True}, {"allow_nan": False}]
)
def test_dumps_matches_compact_json(options: dict[str, Any]) -> None:
    assert fastjson.dumps(VALUE, **options) == json.dumps(VALUE, separators=(",", ":"), **options)


def test_dumps_errors_match_json() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        fastjson.dumps({1, 2})
    with pytest.raises(ValueError, match="Out of range float"):
        fastjson.dumps(float("nan"), allow_nan=False)
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        fastjson.dumps(loop)
    assert fastjson.dumps({1, 2}, default=sorted) == "[1,2]"
