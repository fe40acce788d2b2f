"""The local cluster runs real pods the way execution pods will need."""

from __future__ import annotations

import json

from kubernetes import client

from tests.support import kube

SECRET_VALUE = "s3cr3t-value-for-the-pod"


def _pod_phase(core: client.CoreV1Api, namespace: str, name: str) -> str | None:
    phase = core.read_namespaced_pod(name, namespace).status.phase
    return phase if phase in ("Succeeded", "Failed") else None


def test_restricted_pod_with_secret_env_reports_termination_message(
    core: client.CoreV1Api, namespace: str
) -> None:
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="creds"), string_data={"token": SECRET_VALUE}
        ),
    )
    script = (
        "import json, os\n"
        "message = json.dumps({'token_len': len(os.environ['TOKEN'])})\n"
        "open('/dev/termination-log', 'w').write(message)\n"
        "print('hello from', os.getuid())\n"
    )
    secret_env = {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}}
    pod = kube.restricted_python_pod("restricted", script, env=[secret_env])
    core.create_namespaced_pod(namespace, pod)

    phase = kube.wait_until(lambda: _pod_phase(core, namespace, "restricted"), 60, "pod to finish")
    assert phase == "Succeeded"
    status = core.read_namespaced_pod("restricted", namespace).status
    terminated = status.container_statuses[0].state.terminated
    assert json.loads(terminated.message) == {"token_len": len(SECRET_VALUE)}
    logs = core.read_namespaced_pod_log("restricted", namespace)
    assert logs.strip() == "hello from 65532"
    # No service-account token was mounted.
    spec = core.read_namespaced_pod("restricted", namespace).spec
    mounts = [m.mount_path for m in spec.containers[0].volume_mounts]
    assert not any("serviceaccount" in m for m in mounts)


def test_deleting_the_owner_garbage_collects_the_pod(
    core: client.CoreV1Api, namespace: str
) -> None:
    owner = core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="owner"))
    )
    pod = kube.restricted_python_pod("owned", "import time; time.sleep(600)")
    pod["metadata"]["ownerReferences"] = [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
    ]
    pod["spec"]["terminationGracePeriodSeconds"] = 1
    core.create_namespaced_pod(namespace, pod)
    core.delete_namespaced_config_map("owner", namespace)

    def pod_gone() -> bool:
        return not [
            p for p in core.list_namespaced_pod(namespace).items if p.metadata.name == "owned"
        ]

    kube.wait_until(pod_gone, 60, "the owned pod to be garbage-collected")
