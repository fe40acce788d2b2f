from decimal import Decimal

import pytest
from execution_operator.quantity import QuantityError, parse_quantity, quantity_to_int


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20Mi", 20 * 1024**2),
        ("1Ki", 1024),
        ("1G", 10**9),
        ("1k", 1000),
        ("500m", Decimal("0.5")),
        ("1.5Gi", Decimal(3 * 1024**3) / 2),
        ("1e3", 1000),
        ("2E", 2 * 10**18),
        ("128974848", 128974848),
        (" 64Mi ", 64 * 1024**2),
        (7, 7),
    ],
)
def test_parses_every_suffix_kubernetes_accepts(text: str | int, expected: Decimal) -> None:
    assert parse_quantity(text) == expected


@pytest.mark.parametrize("bad", ["", "Mi", "20MB", "1.2.3", "ten", "20 Mi", True])
def test_rejects_what_kubernetes_rejects(bad: str) -> None:
    with pytest.raises(QuantityError):
        parse_quantity(bad)


def test_whole_numbers_round_up() -> None:
    assert quantity_to_int("1.5Ki") == 1536
    assert quantity_to_int("100m") == 1
