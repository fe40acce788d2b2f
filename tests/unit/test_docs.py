"""Documentation generated from code stays current."""

from __future__ import annotations

from pathlib import Path

from execution_operator import crd
from execution_operator.settings import settings_table

REPO = Path(__file__).resolve().parents[2]


def test_readme_lists_every_operator_setting() -> None:
    assert settings_table().strip() in (REPO / "README.md").read_text()


def _field_paths(schema: dict[str, object], prefix: str) -> list[str]:
    paths = []
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for name, sub in properties.items():
            path = f"{prefix}.{name}" if prefix else name
            paths.append(path)
            paths += _field_paths(sub, path)
    items = schema.get("items")
    if isinstance(items, dict):
        paths += _field_paths(items, f"{prefix}[]")
    return paths


def test_api_reference_documents_every_field() -> None:
    schema = crd.build_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    doc = (REPO / "docs" / "api.md").read_text()
    paths = _field_paths(schema["properties"]["spec"], "spec") + _field_paths(
        schema["properties"]["status"], "status"
    )
    missing = [p for p in paths if f"`{p}`" not in doc]
    assert missing == []
