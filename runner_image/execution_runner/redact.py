"""Redaction of secret values from any text the runner lets out of the pod.

Every non-empty secret value is redacted. Values of at least MIN_SUBSTRING_LENGTH
characters are replaced wherever they occur; shorter ones (a PIN, "yes", "42")
only where they stand alone, i.e. not next to a letter or digit, so that a
3-character secret does not turn every word containing it into [REDACTED]
(such a short value is not recognisable inside a longer word anyway).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from re import Pattern

REDACTED = "[REDACTED]"
# Shorter values are redacted only as whole tokens (see the module's docstring).
MIN_SUBSTRING_LENGTH = 4


def _pattern(value: str) -> str:
    import re  # noqa: PLC0415  # ~4 ms of start-up, paid only when there are secrets

    escaped = re.escape(value)
    if len(value) >= MIN_SUBSTRING_LENGTH:
        return escaped
    return rf"(?<![^\W_]){escaped}(?![^\W_])"


class Redactor:
    """Replaces every occurrence of any of the given secret values."""

    def __init__(self, secrets: Iterable[str]) -> None:
        values = sorted({s for s in secrets if s}, key=len, reverse=True)
        # Longest first, so a secret that contains another is replaced whole.
        self._pattern: Pattern[str] | None = None
        if values:
            import re  # noqa: PLC0415  # see _pattern

            self._pattern = re.compile("|".join(map(_pattern, values)))

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(REDACTED, text)
