"""Documentation generated from code stays current."""

from __future__ import annotations

from pathlib import Path

from execution_operator.settings import settings_table

REPO = Path(__file__).resolve().parents[2]


def test_readme_lists_every_operator_setting() -> None:
    assert settings_table().strip() in (REPO / "README.md").read_text()
