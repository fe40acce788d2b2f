"""Kubernetes resource quantities (`20Mi`, `1G`, `500m`, `1e3`) as exact numbers."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Final

# The same grammar the API server accepts (and the CRD schema's pattern).
QUANTITY_PATTERN: Final = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
_QUANTITY_RE: Final = re.compile(QUANTITY_PATTERN)

_BINARY: Final = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL: Final = {
    "n": -9,
    "u": -6,
    "m": -3,
    "": 0,
    "k": 3,
    "M": 6,
    "G": 9,
    "T": 12,
    "P": 15,
    "E": 18,
}


class QuantityError(ValueError):
    """The value is not a Kubernetes quantity."""


def parse_quantity(value: int | str) -> Decimal:
    """The exact number a quantity stands for: `"20Mi"` → 20971520, `"500m"` → 0.5."""
    if isinstance(value, bool):  # bool is an int; `true` is never a quantity
        raise QuantityError(f"{value!r} is not a quantity")
    if isinstance(value, int):
        return Decimal(value)
    text = value.strip()
    if not _QUANTITY_RE.match(text):
        raise QuantityError(f"{value!r} is not a quantity (examples: 20Mi, 1G, 500m, 128974848)")
    number, suffix = _split(text)
    try:
        base = Decimal(number)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already excludes this
        raise QuantityError(f"{value!r} is not a quantity") from exc
    if suffix in _BINARY:
        return base * (Decimal(1024) ** _BINARY[suffix])
    if len(suffix) > 1 and suffix[0] in "eE":  # an exponent; a lone "E" is exa
        try:
            return base.scaleb(int(suffix[1:]))
        except ValueError:
            raise QuantityError(f"{value!r} has a fractional exponent") from None
    return base.scaleb(_DECIMAL[suffix])


def quantity_to_int(value: int | str) -> int:
    """A quantity as a whole number, rounded up (bytes, counts): `"1.5Ki"` → 1536."""
    return math.ceil(parse_quantity(value))


def _split(text: str) -> tuple[str, str]:
    if text[-2:] in _BINARY:
        return text[:-2], text[-2:]
    exponent = re.search(r"[eE][+-]?[0-9.]+$", text)
    if exponent:
        return text[: exponent.start()], exponent.group()
    if text[-1:] in _DECIMAL:
        return text[:-1], text[-1:]
    return text, ""
