"""The Execution CRD, generated from the pydantic models in `models.py`.

`python -m execution_operator.crd` prints it; `make crds` writes it to crds/.
Kubernetes 1.20 wants a structural schema: every node typed (or int-or-string,
or preserving unknown fields), no `$ref`, no `title`, no `anyOf` other than
int-or-string, and no `additionalProperties` next to `properties`.
"""

from __future__ import annotations

from typing import Any, Final

import yaml

from . import models, status_model
from .api_types import ApiModel

CRD_NAME: Final = f"{models.PLURAL}.{models.GROUP}"
HEADER: Final = (
    "# Generated from operator/execution_operator/models.py by `make crds`; do not edit.\n"
)
Schema = dict[str, Any]

# `kubectl get exe` columns; a computed duration is impossible without CEL, so
# Duration(ms) shows the user code's wall time the runner measured.
PRINTER_COLUMNS: Final[list[dict[str, Any]]] = [
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "Reason", "type": "string", "jsonPath": ".status.reason"},
    {"name": "Code", "type": "integer", "jsonPath": ".status.code"},
    {
        "name": "Duration(ms)",
        "type": "integer",
        "jsonPath": ".status.metrics.executionMs",
        "description": "Wall time of the user code in milliseconds.",
    },
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    {"name": "Pod", "type": "string", "jsonPath": ".status.podName", "priority": 1},
    {"name": "Attempts", "type": "integer", "jsonPath": ".status.attempts", "priority": 1},
]


class SchemaError(ValueError):
    """A model produced a JSON schema Kubernetes cannot take as structural."""


def structural_schema(model: type[ApiModel]) -> Schema:
    """The model's JSON schema rewritten as a Kubernetes structural schema."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs: dict[str, Schema] = raw.pop("$defs", {})
    return _convert(raw, defs)


def _convert(node: Schema, defs: dict[str, Schema]) -> Schema:
    node = _inline(node, defs)
    out: Schema = {}
    for key, value in node.items():
        if key == "title" or (key == "default" and value is None):
            continue
        if key == "additionalProperties" and value is False:
            continue  # extra="forbid"; the API server prunes unknown fields anyway
        if key == "properties":
            out[key] = {name: _convert(sub, defs) for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = _convert(value, defs)
        else:
            out[key] = value
    if out.get("additionalProperties") is True:  # dict[str, Any]
        del out["additionalProperties"]
        out["x-kubernetes-preserve-unknown-fields"] = True
    return _ordered(out)


def _ordered(node: Schema) -> Schema:
    """Type and description first, nested properties last: the YAML reads top-down."""
    first = [k for k in ("type", "description") if k in node]
    last = [k for k in ("required", "properties", "items", "additionalProperties") if k in node]
    middle = sorted(k for k in node if k not in first and k not in last)
    return {k: node[k] for k in [*first, *middle, *last]}


def _inline(node: Schema, defs: dict[str, Schema]) -> Schema:
    """Resolve `$ref` and collapse `anyOf [X, null]` (an optional field) into X."""
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        return _inline({**target, **siblings}, defs)  # the field's description wins
    if "anyOf" in node and not node.get("x-kubernetes-int-or-string"):
        branches = [b for b in node["anyOf"] if b != {"type": "null"}]
        if len(branches) != 1:
            raise SchemaError(f"anyOf with several types is not structural: {node['anyOf']}")
        siblings = {k: v for k, v in node.items() if k != "anyOf"}
        return _inline({**branches[0], **siblings}, defs)
    return node


def _root_schema() -> Schema:
    spec = structural_schema(models.ExecutionSpec)
    status = structural_schema(status_model.ExecutionStatus)
    return {
        "type": "object",
        "description": "One run of one piece of Python code in a short-lived pod.",
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string", "description": "Versioned schema of this object."},
            "kind": {"type": "string", "description": "Execution."},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
    }


def build_crd() -> dict[str, Any]:
    """The CustomResourceDefinition as a dict."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": CRD_NAME,
            "labels": {"app.kubernetes.io/name": "execution-operator"},
        },
        "spec": {
            "group": models.GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": models.KIND,
                "listKind": f"{models.KIND}List",
                "plural": models.PLURAL,
                "singular": models.SINGULAR,
                "shortNames": list(models.SHORT_NAMES),
                # Like Jobs and Pods, Executions show up in `kubectl get all`.
                "categories": ["all"],
            },
            "versions": [
                {
                    "name": models.VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": PRINTER_COLUMNS,
                    "schema": {"openAPIV3Schema": _root_schema()},
                }
            ],
        },
    }


class _PlainDumper(yaml.SafeDumper):
    """Writes shared sub-schemas out in full: no `&id001` anchors in a CRD."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render_crd() -> str:
    """The CRD as the YAML text kept in crds/."""
    body = yaml.dump(
        build_crd(), Dumper=_PlainDumper, sort_keys=False, width=100, allow_unicode=True
    )
    return HEADER + body


def main() -> None:
    print(render_crd(), end="")


if __name__ == "__main__":
    main()
