"""The framed result line: the last line of the container's stdout."""

from __future__ import annotations

from execution_runner import fastjson

# `typing` costs milliseconds of the runner's start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, Final

# --- the framed result line (last line of the container's stdout) ------------
RESULT_KEY: Final = "execution_result"
SHA256_KEY: Final = "sha256"
ERROR_KEY: Final = "error"  # on failures: ErrorDoc, untruncated, secrets redacted


def canonical_json(value: Any) -> bytes:
    """The bytes the result's sha256 and size are computed over."""
    return fastjson.dumps(value, sort_keys=True, ensure_ascii=False).encode()


def result_sha256(value: Any) -> str:
    try:
        # The builtin implementation: hashlib would load OpenSSL (~4 ms of start-up).
        from _sha256 import sha256  # type: ignore[import-not-found]  # noqa: PLC0415
    except ImportError:  # an interpreter built without it
        from hashlib import sha256  # noqa: PLC0415
    digest: str = sha256(canonical_json(value)).hexdigest()
    return digest


def frame_result(value: Any, error: Mapping[str, Any] | None = None) -> str:
    """The runner's last stdout line: the result and its checksum (no newline)."""
    framed: dict[str, Any] = {RESULT_KEY: value, SHA256_KEY: result_sha256(value)}
    if error is not None:
        framed[ERROR_KEY] = dict(error)
    return fastjson.dumps(framed, ensure_ascii=False)


class FramedResultError(ValueError):
    """The framed result line is missing, malformed or fails its checksum."""


def parse_framed_result(line: str) -> Any:
    """Inverse of `frame_result`; raises FramedResultError on any mismatch."""
    try:
        obj = fastjson.loads(line)
    except ValueError as exc:
        raise FramedResultError(f"result line is not JSON: {exc}") from exc
    if not isinstance(obj, dict) or RESULT_KEY not in obj or SHA256_KEY not in obj:
        raise FramedResultError("result line lacks execution_result/sha256")
    value = obj[RESULT_KEY]
    if result_sha256(value) != obj[SHA256_KEY]:
        raise FramedResultError("result sha256 does not match")
    return value
