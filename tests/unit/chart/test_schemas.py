"""What we render or build, checked against current Kubernetes schemas (not only 1.20)."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
import yaml
from execution_operator.settings import Settings

from tests.support import built
from tests.support.helm import REPO, render
from tests.unit.chart.test_chart import VALUE_SETS

VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
# Kinds of other projects' CRDs: no schema in Kubernetes' own.
FOREIGN_KINDS = {"ServiceMonitor"}
EXECUTION = {
    "apiVersion": "execution-operator.io/v1alpha1",
    "kind": "Execution",
    "metadata": {
        "name": "hello",
        "namespace": "team-a",
        "uid": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        "generation": 1,
    },
    "spec": {
        "code": "result = data",
        "input": {"x": 1},
        "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "token"}}}],
        "timeoutSeconds": 30,
    },
}


def _validate(obj: dict[str, Any], version: str) -> None:
    kubernetes_validate.validate(obj, version, strict=True)  # raises on any violation


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_the_rendered_chart_is_valid(values: dict[str, Any], version: str) -> None:
    objects = [o for o in render(values) if o["kind"] not in FOREIGN_KINDS]
    assert objects
    for obj in objects:
        _validate(obj, version)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_crds_are_valid(version: str) -> None:
    for path in sorted((REPO / "crds").glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            _validate(crd, version)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("inline", [16 * 1024, 0], ids=["payload-inline", "payload-configmap"])
def test_the_pod_and_configmap_the_operator_builds_are_valid(version: str, inline: int) -> None:
    settings = Settings(
        runner_image="registry.example/execution-runner:1", inline_payload_max_bytes=inline
    )
    assert built.payload(EXECUTION, 1, settings).inline is bool(inline)
    _validate(built.payload_configmap(EXECUTION, 1, settings), version)
    _validate(built.pod(EXECUTION, 1, settings), version)


def test_an_invalid_manifest_is_caught() -> None:
    pod = built.pod(EXECUTION, 1, Settings())
    pod["spec"]["containers"][0]["imagePullPolicy"] = 7
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(pod, VERSIONS[0])
