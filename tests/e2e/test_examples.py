"""The manifests in examples/ are valid against the installed CRD, and the CRD explains itself."""

from __future__ import annotations

import subprocess

import pytest

from tests.support import kube
from tests.support.operator_process import install_crds

EXAMPLES = sorted((kube.REPO / "examples").glob("*.yaml"))


def _kubectl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", "--kubeconfig", kube.kubeconfig_path(), *args],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def crds(kube_api: object) -> None:
    install_crds()


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_is_accepted_by_the_api_server(crds: None, namespace: str, example: object) -> None:
    done = _kubectl("-n", namespace, "apply", "--dry-run=server", "-f", str(example))
    assert done.returncode == 0, done.stderr
    assert "execution.execution-operator.io/" in done.stdout


def test_kubectl_explain_shows_the_field_docs(crds: None) -> None:
    done = _kubectl("explain", "execution.spec.timeoutSeconds")
    assert done.returncode == 0, done.stderr
    assert "Wall-clock limit of the user code" in done.stdout
