"""`make deploy`: the operator installed by its Helm chart runs as a pod and serves Executions.

The session's operator process is stopped meanwhile: two operators would both act.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from execution_operator import models
from kubernetes import client

from tests.support import kube
from tests.support.helm import REPO, helm
from tests.support.operator_process import OperatorProcess

RELEASE = "execution-operator"
RELEASE_NAMESPACE = "execution-operator"
RELEASE_SELECTOR = f"app.kubernetes.io/instance={RELEASE}"
METRICS_GET = """
import sys, urllib.request
body = urllib.request.urlopen(f"http://{sys.argv[1]}/metrics", timeout=10).read().decode()
print("\\n".join(line for line in body.splitlines() if line.startswith("execution")))
"""

pytestmark = pytest.mark.slow


def _make(*args: str) -> None:
    subprocess.run(["make", "-s", *args], cwd=REPO, check=True)


def _kubectl(*args: str, stdin: str = "") -> str:
    done = subprocess.run(
        ["kubectl", "--kubeconfig", kube.kubeconfig_path(), *args],
        input=stdin,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def _operator_pods(core: client.CoreV1Api) -> list[Any]:
    return list(core.list_namespaced_pod(RELEASE_NAMESPACE, label_selector=RELEASE_SELECTOR).items)


def _one_ready_pod(core: client.CoreV1Api) -> Any:
    pods = [p for p in _operator_pods(core) if p.metadata.deletion_timestamp is None]
    ready = [
        p
        for p in pods
        if any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
    ]
    return ready[0] if len(pods) == 1 and ready else None


@pytest.fixture(scope="module")
def deployed(
    operator: OperatorProcess, core: client.CoreV1Api, runner_image: str
) -> Iterator[None]:
    """The chart installed with the local images; uninstalled (and checked) afterwards."""
    operator.stop()
    try:
        _make("deploy")
        kube.wait_until(lambda: _one_ready_pod(core), 120, "the operator pod to be Ready")
        yield
    finally:
        _make("undeploy")
        operator.start()


def _apply_hello(namespace: str, name: str) -> dict[str, Any]:
    manifest = (
        (REPO / "examples" / "hello.yaml").read_text().replace("name: hello", f"name: {name}")
    )
    _kubectl("-n", namespace, "apply", "-f", "-", stdin=manifest)
    _kubectl(
        "-n", namespace, "wait", f"execution/{name}", "--for=condition=Ready", "--timeout=120s"
    )
    body: dict[str, Any] = json.loads(
        _kubectl("-n", namespace, "get", "execution", name, "-o", "json")
    )
    return body


def test_an_execution_applied_with_kubectl_succeeds(
    deployed: None, core: client.CoreV1Api, namespace: str
) -> None:
    (pod,) = _operator_pods(core)
    assert pod.spec.service_account_name == RELEASE
    assert pod.spec.containers[0].image.startswith("localhost/execution-operator:")
    body = _apply_hello(namespace, "hello")
    assert body["status"]["phase"] == "Succeeded"
    assert body["status"]["result"] == {"greeting": "hello world"}
    logs = core.read_namespaced_pod_log(pod.metadata.name, RELEASE_NAMESPACE)
    assert "hello" in logs
    # The RBAC of the chart is enough: the API never refused the operator.
    assert "Forbidden" not in logs, logs


def test_the_metrics_endpoint_answers_through_its_service(
    deployed: None, core: client.CoreV1Api, namespace: str
) -> None:
    _apply_hello(namespace, "counted")
    service = core.read_namespaced_service(f"{RELEASE}-metrics", RELEASE_NAMESPACE)
    address = f"{service.spec.cluster_ip}:{service.spec.ports[0].port}"
    pod = kube.restricted_python_pod("scrape", METRICS_GET)
    pod["spec"]["containers"][0]["command"] += [address]
    lines = kube.run_pod_to_end(core, namespace, pod)
    outcomes = [line for line in lines.splitlines() if line.startswith("execution_outcomes_total")]
    assert any('reason="Completed"' in line for line in outcomes), lines


def test_helm_upgrade_with_a_changed_setting_takes_effect(
    deployed: None, core: client.CoreV1Api, namespace: str
) -> None:
    _make("deploy", "HELM_ARGS=--set settings.defaultResources.memoryLimit=300Mi")
    kube.wait_until(lambda: _one_ready_pod(core), 120, "the upgraded operator pod")
    (pod,) = [p for p in _operator_pods(core) if p.metadata.deletion_timestamp is None]
    env = {e.name: e.value for e in pod.spec.containers[0].env}
    assert env["EXECUTION_OPERATOR_DEFAULT_MEMORY_LIMIT"] == "300Mi"
    body = _apply_hello(namespace, "after-upgrade")
    uid = body["metadata"]["uid"]
    (run,) = core.list_namespaced_pod(
        namespace, label_selector=f"execution-operator.io/uid={uid}"
    ).items
    assert run.spec.containers[0].resources.limits["memory"] == "300Mi"


def test_uninstall_leaves_no_operator_resources_but_keeps_the_crd(
    deployed: None, kube_api: client.ApiClient
) -> None:
    # Last test of the module: it uninstalls; the fixture's undeploy is then a no-op.
    _make("undeploy")
    assert (
        helm(
            "--kubeconfig",
            kube.kubeconfig_path(),
            "status",
            RELEASE,
            "-n",
            RELEASE_NAMESPACE,
            check=False,
        ).returncode
        != 0
    )
    apps = client.AppsV1Api(kube_api)
    core = client.CoreV1Api(kube_api)
    rbac = client.RbacAuthorizationV1Api(kube_api)
    assert (
        apps.list_namespaced_deployment(RELEASE_NAMESPACE, label_selector=RELEASE_SELECTOR).items
        == []
    )
    assert (
        core.list_namespaced_service(RELEASE_NAMESPACE, label_selector=RELEASE_SELECTOR).items == []
    )
    assert (
        core.list_namespaced_service_account(
            RELEASE_NAMESPACE, label_selector=RELEASE_SELECTOR
        ).items
        == []
    )
    assert rbac.list_cluster_role(label_selector=RELEASE_SELECTOR).items == []
    assert rbac.list_cluster_role_binding(label_selector=RELEASE_SELECTOR).items == []
    # Garbage collection removes the pod after its ReplicaSet; slow on a loaded node.
    kube.wait_until(lambda: not _operator_pods(core), 180, "the operator pod to go")
    crd = client.ApiextensionsV1Api(kube_api).read_custom_resource_definition(
        f"{models.PLURAL}.{models.GROUP}"
    )
    assert crd.metadata.annotations["helm.sh/resource-policy"] == "keep"
