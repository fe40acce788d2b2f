"""Test helpers for the real local cluster: clients, waiting, namespaces."""

from __future__ import annotations

import os
import pathlib
import subprocess
import uuid
from typing import Any, TypeVar

from kubernetes import client, config

# wait_until lives in tests.support.waiting; kube.wait_until is the same function.
from tests.support.waiting import poll_until, wait_until

REPO = pathlib.Path(__file__).resolve().parents[2]
STATE_DIR = pathlib.Path(
    os.environ.get("LOCAL_CLUSTER_STATE", "/var/lib/execution-operator-cluster")
)
BASE_IMAGE = os.environ.get("LOCAL_BASE_IMAGE", "localhost/python-base:bookworm")

T = TypeVar("T")
# Namespaces of one test run share this prefix: what a run left is easy to tell apart.
RUN_PREFIX = f"t{uuid.uuid4().hex[:4]}"


def kubeconfig_path() -> str:
    return os.environ.get("KUBECONFIG") or str(STATE_DIR / "kubeconfig")


def ensure_cluster() -> None:
    """Bring the local cluster up, or return quickly when it already runs."""
    subprocess.run(["bash", str(REPO / "local-cluster" / "up.sh")], check=True)


def api_client() -> client.ApiClient:
    return config.new_client_from_config(config_file=kubeconfig_path())


def create_namespace(core: client.CoreV1Api, prefix: str) -> str:
    name = f"{RUN_PREFIX}-{prefix[:40].rstrip('-')}-{uuid.uuid4().hex[:6]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))

    def has_default_sa() -> bool:
        return any(
            sa.metadata.name == "default" for sa in core.list_namespaced_service_account(name).items
        )

    wait_until(has_default_sa, 30, f"default service account in {name}")
    return name


def delete_namespace(core: client.CoreV1Api, name: str, timeout: float) -> bool:
    """Delete a namespace and wait until it is gone; False if it outlived `timeout`.

    Whoever holds the cluster next must not inherit its cleanup: an operator would
    spend its first minutes on the objects of a namespace being deleted.
    """
    core.delete_namespace(name, propagation_policy="Background")

    def gone() -> bool:
        try:
            core.read_namespace(name)
        except client.ApiException as exc:
            if exc.status == 404:
                return True
            raise
        return False

    return bool(poll_until(gone, timeout, 0.5))


def restricted_security_context() -> dict[str, object]:
    """The container fields Pod Security "restricted" requires."""
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
        "readOnlyRootFilesystem": True,
    }


def restricted_python_pod(
    name: str, script: str, env: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A pod with Pod Security "restricted" running `python3 -c script` on the base image."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": "main",
                    "image": BASE_IMAGE,
                    "imagePullPolicy": "Never",
                    "command": ["python3", "-c", script],
                    "env": env or [],
                    "securityContext": restricted_security_context(),
                    "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                }
            ],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
        },
    }


def run_pod_to_end(core: client.CoreV1Api, namespace: str, pod: dict[str, Any]) -> str:
    """Create `pod`, wait until it ends, assert it succeeded; its log, stripped."""
    name = str(pod["metadata"]["name"])
    core.create_namespaced_pod(namespace, pod)

    def finished() -> str | None:
        phase: str = core.read_namespaced_pod(name, namespace).status.phase
        return phase if phase in ("Succeeded", "Failed") else None

    phase = wait_until(finished, 90, f"pod {name} to end")
    logs: str = core.read_namespaced_pod_log(name, namespace)
    assert phase == "Succeeded", logs
    return logs.strip()
