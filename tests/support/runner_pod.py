"""Runner pods made by hand, the way the operator will make them: payload, pod, outcome.

`make_runner_image` builds the runner image (when its content changed) and
returns the content-addressed name to run; `runner_pod_manifest` is a pod with
the restricted security context and the payload ConfigMap mounted;
`run_runner_pod` creates both and waits for the outcome.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from typing import Any, cast

from execution_runner import protocol
from kubernetes import client

from tests.support import kube

RUNNER_IMAGE = os.environ.get("RUNNER_IMAGE", "localhost/execution-runner:dev")
TERMINAL_PHASES = ("Succeeded", "Failed")


def make_runner_image() -> str:
    """Builds and loads the runner image when its content changed; returns the name to run.

    The same as `make images` without its cluster-up step (callers have a cluster).
    The content-addressed name (`<image>-<digest of the build context>`) is
    returned rather than RUNNER_IMAGE itself, so a concurrent build of another
    tree under the same name cannot change what runs.
    """
    image_sh = [str(kube.REPO / "local-cluster" / "image.sh")]
    build = [RUNNER_IMAGE, "runner_image/Dockerfile", "runner_image"]
    subprocess.run(["bash", *image_sh, *build], cwd=kube.REPO, check=True)
    ref = subprocess.run(
        ["bash", *image_sh, "--ref", *build],
        cwd=kube.REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert ref.startswith(f"{RUNNER_IMAGE}-"), ref
    return ref


def payload_config_map(
    name: str,
    code: str,
    data: Any = None,
    runner: dict[str, Any] | None = None,
    payload_type: str | None = None,
) -> client.V1ConfigMap:
    """The three payload files, as the operator writes them."""
    return client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=name),
        data={
            protocol.CODE_FILE: code,
            protocol.INPUT_FILE: json.dumps(
                {"data": {} if data is None else data, "payload_type": payload_type}
            ),
            protocol.RUNNER_CONFIG_FILE: json.dumps(runner or {}),
        },
    )


def runner_pod_manifest(
    name: str,
    image: str,
    payload: str,
    env: list[dict[str, Any]] | None = None,
    active_deadline_seconds: int = 120,
    uid: int = 65532,
) -> dict[str, Any]:
    """A pod with Pod Security "restricted", a read-only root and the payload mounted."""
    downward = [
        {"name": protocol.POD_NAME_ENV, "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": protocol.NODE_NAME_ENV, "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/component": "execution"}},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "activeDeadlineSeconds": active_deadline_seconds,
            "terminationGracePeriodSeconds": 10,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": uid,
                "runAsGroup": uid,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "runner",
                    "image": image,
                    "imagePullPolicy": "Never",
                    "env": downward + (env or []),
                    "securityContext": {**kube.restricted_security_context(), "runAsUser": uid},
                    "volumeMounts": [
                        {"name": "tmp", "mountPath": "/tmp"},
                        {
                            "name": "payload",
                            "mountPath": protocol.DEFAULT_PAYLOAD_DIR,
                            "readOnly": True,
                        },
                    ],
                }
            ],
            "volumes": [
                {"name": "tmp", "emptyDir": {}},
                {"name": "payload", "configMap": {"name": payload}},
            ],
        },
    }


@dataclass
class PodOutcome:
    name: str
    phase: str
    exit_code: int
    termination: dict[str, Any]  # the termination message, read through the API
    log: str  # the container log, read through the API
    node: str
    seconds: float  # pod create -> terminal phase seen

    @property
    def log_lines(self) -> list[str]:
        return self.log.rstrip("\n").split("\n")

    @property
    def last_line(self) -> str:
        return self.log_lines[-1]


def create_pod(core: client.CoreV1Api, namespace: str, manifest: dict[str, Any]) -> None:
    """The client takes a plain manifest as well as a V1Pod."""
    core.create_namespaced_pod(namespace, cast(Any, manifest))


def pod_log(core: client.CoreV1Api, namespace: str, name: str) -> str:
    """The container log as sent (the client would parse a log that happens to be JSON)."""
    response: Any = core.read_namespaced_pod_log(
        name, namespace, container="runner", _preload_content=False
    )
    return bytes(response.data).decode()


@dataclass
class FinishedPod:
    phase: str  # Succeeded or Failed
    terminated: client.V1ContainerStateTerminated  # of the first container
    node: str


def finished_pod(pod: client.V1Pod) -> FinishedPod | None:
    """The pod's end, once it is Succeeded or Failed and its container's end is recorded."""
    status, spec = pod.status, pod.spec
    if status is None or spec is None or status.phase not in TERMINAL_PHASES:
        return None
    statuses = status.container_statuses or []
    state = statuses[0].state if statuses else None
    terminated = state.terminated if state is not None else None
    if terminated is None:
        return None
    return FinishedPod(str(status.phase), terminated, spec.node_name or "")


def wait_for_pod(
    core: client.CoreV1Api, namespace: str, name: str, timeout: float = 60, interval: float = 0.05
) -> FinishedPod:
    """Polls until the pod is Succeeded or Failed with its container's termination state."""
    return kube.wait_until(
        lambda: finished_pod(core.read_namespaced_pod(name, namespace)),
        timeout,
        f"pod {namespace}/{name} to finish",
        interval,
    )


def run_runner_pod(
    core: client.CoreV1Api,
    namespace: str,
    name: str,
    image: str,
    code: str,
    data: Any = None,
    runner: dict[str, Any] | None = None,
    env: list[dict[str, Any]] | None = None,
    timeout: float = 60,
    uid: int = 65532,
) -> PodOutcome:
    """Payload ConfigMap + runner pod; waits for the end and reads what the operator would."""
    core.create_namespaced_config_map(
        namespace, payload_config_map(f"{name}-payload", code, data, runner)
    )
    started = time.monotonic()
    manifest = runner_pod_manifest(name, image, f"{name}-payload", env=env, uid=uid)
    create_pod(core, namespace, manifest)
    finished = wait_for_pod(core, namespace, name, timeout)
    seconds = time.monotonic() - started
    return PodOutcome(
        name=name,
        phase=finished.phase,
        exit_code=finished.terminated.exit_code,
        termination=json.loads(finished.terminated.message or "null"),
        log=pod_log(core, namespace, name),
        node=finished.node,
        seconds=seconds,
    )
