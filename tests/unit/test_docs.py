"""Documentation generated from code stays current."""

from __future__ import annotations

import re
from pathlib import Path

from execution_operator import crd
from execution_operator.settings import settings_table
from execution_runner import protocol

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


def _reasons_table() -> list[str]:
    """The reasons in the first column of docs/api.md's "Reasons and codes" table."""
    section = (REPO / "docs" / "api.md").read_text().split("## Reasons and codes")[1]
    table = section.split("\n## ")[0]
    return re.findall(r"^\| `(\w+)` \|", table, flags=re.MULTILINE)


def test_every_reason_is_explained_once_in_the_api_reference() -> None:
    assert sorted(_reasons_table()) == sorted(protocol.ALL_REASONS)


def test_readme_lists_every_reason_and_points_to_their_meanings() -> None:
    readme = " ".join((REPO / "README.md").read_text().split())
    listed = readme.split("`status.reason` is one of ")[1].split(";")[0]
    assert re.findall(r"`(\w+)`", listed) == list(protocol.ALL_REASONS)
    assert "docs/api.md#reasons-and-codes" in readme


def test_the_architecture_doc_names_every_operator_module_and_only_real_ones() -> None:
    doc = (REPO / "docs" / "architecture.md").read_text()
    operator = REPO / "operator" / "execution_operator"
    runner = REPO / "runner_image" / "execution_runner"
    modules = {p.name for p in operator.glob("*.py") if p.name != "__init__.py"}
    named = set(re.findall(r"`(\w+\.py)`", doc))
    assert sorted(modules - named) == []
    real = modules | {p.name for p in runner.glob("*.py")}
    assert sorted(named - real) == []
    for package in re.findall(r"`(\w+)/`", doc):
        assert (runner / package).is_dir() or (operator / package).is_dir()
