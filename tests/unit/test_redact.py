"""Secret redaction: every non-empty value, short ones as whole tokens only."""

from __future__ import annotations

from execution_runner.redact import REDACTED, Redactor


def test_long_values_are_redacted_everywhere() -> None:
    redact = Redactor(["s3cr3t-token"])
    assert redact("a=s3cr3t-token; xs3cr3t-tokenx") == f"a={REDACTED}; x{REDACTED}x"


def test_short_values_are_redacted_as_whole_tokens() -> None:
    redact = Redactor(["42", "abc", "x"])
    text = "pin 42, 4242, abc abcdef _abc_ x=1 xylophone"
    expected = f"pin {REDACTED}, 4242, {REDACTED} abcdef _{REDACTED}_ {REDACTED}=1 xylophone"
    assert redact(text) == expected


def test_one_character_secret_at_the_edges() -> None:
    assert Redactor(["7"])("7 and 7") == f"{REDACTED} and {REDACTED}"


def test_empty_values_are_ignored() -> None:
    redact = Redactor(["", ""])
    assert not redact
    assert redact("unchanged") == "unchanged"


def test_longest_value_wins_when_one_contains_another() -> None:
    assert Redactor(["abcd", "abcdefgh"])("abcdefgh") == REDACTED
