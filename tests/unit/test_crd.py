"""The generated CRD: up to date, structural for Kubernetes 1.20, documented."""

from pathlib import Path
from typing import Any

import yaml
from execution_operator import crd, models
from execution_runner import protocol

CRD_FILE = Path(__file__).parents[2] / "crds" / "executions.execution-operator.io.yaml"
# Keywords a structural schema (apiextensions.k8s.io/v1, no CEL) may use.
ALLOWED = {
    "type",
    "description",
    "properties",
    "required",
    "items",
    "additionalProperties",
    "enum",
    "default",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
    "format",
    "nullable",
    "anyOf",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-int-or-string",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
}


def _schema() -> dict[str, Any]:
    return crd.build_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]  # type: ignore[no-any-return]


def _walk(node: dict[str, Any], path: str) -> list[str]:
    problems = [f"{path}: {key}" for key in node if key not in ALLOWED]
    free = node.get("x-kubernetes-preserve-unknown-fields") or node.get(
        "x-kubernetes-int-or-string"
    )
    if "type" not in node and not free:
        problems.append(f"{path}: no type")
    if "anyOf" in node and not node.get("x-kubernetes-int-or-string"):
        problems.append(f"{path}: anyOf other than int-or-string")
    if "properties" in node and "additionalProperties" in node:
        problems.append(f"{path}: properties with additionalProperties")
    if "default" in node and node["default"] is None:
        problems.append(f"{path}: null default")
    for name, sub in node.get("properties", {}).items():
        if "description" not in sub:
            problems.append(f"{path}.{name}: no description")
        problems += _walk(sub, f"{path}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            problems += _walk(node[key], f"{path}[{key}]")
    return problems


def test_checked_in_crd_is_up_to_date() -> None:
    assert CRD_FILE.read_text() == crd.render_crd(), "stale CRD: run `make crds`"


def test_schema_is_structural_and_every_field_documented() -> None:
    problems = [p for p in _walk(_schema(), "") if not p.startswith(".metadata: no desc")]
    assert problems == []


def test_only_free_form_parts_preserve_unknown_fields() -> None:
    text = yaml.safe_dump(_schema())
    assert text.count("x-kubernetes-preserve-unknown-fields") == 3  # input, affinity, result
    spec = _schema()["properties"]["spec"]["properties"]
    assert spec["input"]["x-kubernetes-preserve-unknown-fields"] is True
    assert spec["podTemplate"]["properties"]["affinity"]["x-kubernetes-preserve-unknown-fields"]


def test_defaults_and_bounds_follow_the_contract() -> None:
    spec = _schema()["properties"]["spec"]["properties"]
    assert spec["timeoutSeconds"] | {"description": ""} == {
        "type": "integer",
        "description": "",
        "default": 30,
        "minimum": 1,
        "maximum": models.MAX_TIMEOUT_SECONDS,
    }
    assert spec["startDeadlineSeconds"]["default"] == 300
    assert spec["threads"]["default"] == 1
    assert spec["retries"]["default"] == 0
    assert spec["input"]["default"] == {}
    assert spec["rlimits"]["default"] == {}
    assert spec["rlimits"]["properties"]["stack"]["default"] == "20Mi"
    assert spec["logs"]["properties"]["maxBatchBytes"]["default"] == "10Mi"
    assert spec["logs"]["properties"]["flushIntervalMillis"]["default"] == 1000
    assert spec["logs"]["properties"]["enabled"]["default"] is True
    assert spec["code"]["maxLength"] == models.MAX_CODE_CHARS
    assert spec["env"]["x-kubernetes-list-map-keys"] == ["name"]


def test_quantities_are_int_or_string() -> None:
    stack = _schema()["properties"]["spec"]["properties"]["rlimits"]["properties"]["stack"]
    assert stack["x-kubernetes-int-or-string"] is True
    assert stack["anyOf"] == [{"type": "integer"}, {"type": "string"}]


def test_status_enums_come_from_the_protocol() -> None:
    status = _schema()["properties"]["status"]["properties"]
    assert status["reason"]["enum"] == list(protocol.ALL_REASONS)
    assert status["phase"]["enum"] == list(models.PHASES)


def test_names_columns_and_status_subresource() -> None:
    body = crd.build_crd()
    assert body["metadata"]["name"] == "executions.execution-operator.io"
    names = body["spec"]["names"]
    assert (names["kind"], names["plural"], names["shortNames"]) == (
        "Execution",
        "executions",
        ["exe"],
    )
    assert body["spec"]["scope"] == "Namespaced"
    version = body["spec"]["versions"][0]
    assert version["name"] == "v1alpha1"
    assert version["subresources"] == {"status": {}}
    columns = [c["name"] for c in version["additionalPrinterColumns"] if "priority" not in c]
    assert columns == ["Phase", "Reason", "Code", "Duration(ms)", "Age"]


def test_rendered_yaml_has_no_anchors() -> None:
    assert "&id" not in crd.render_crd()
