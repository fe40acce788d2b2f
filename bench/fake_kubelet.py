"""A kubelet simulated the way Kubernetes' Job integration tests do it.

A Node object with no capacity (the scheduler never places anything on it,
no real kubelet serves it) stands for the node; the bench binds each new
Execution pod to it through the binding subresource and patches the pod's
status to terminal, with the termination message the runner would write for
hello (built by the runner's own report module).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from execution_runner import report
from execution_runner.outcome import Outcome
from execution_runner.protocol import LOGS_COUNTER_KEYS, Reason

from bench import cluster
from bench.kubelet_logs import KubeletLogs

HOSTNAME_LABEL = "kubernetes.io/hostname"
CONTAINER = "runner"
HELLO_RESULT = {"greeting": "hello"}


@contextlib.contextmanager
def fake_node() -> Iterator[str]:
    """A Node without capacity whose kubelet serves only pod logs; deleted at the end."""
    with KubeletLogs(HELLO_RESULT) as logs, _node(logs.host, logs.port) as name:
        yield name


@contextlib.contextmanager
def _node(address: str, port: int) -> Iterator[str]:
    core = cluster.core_api()
    name = f"bench-fake-node-{uuid.uuid4().hex[:6]}"
    body = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {HOSTNAME_LABEL: name, "bench": "fake"}},
        # Not schedulable by the scheduler: only bindings made here put pods on it.
        "spec": {"unschedulable": True},
    }
    core.create_node(body)
    status = {
        "status": {
            "addresses": [{"type": "InternalIP", "address": address}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
        }
    }
    try:
        core.patch_node_status(name, status)
        yield name
    finally:
        core.delete_node(name)


def termination_message(result: Any) -> str:
    """What the runner writes to the termination log for a completed run."""
    logs = dict.fromkeys(LOGS_COUNTER_KEYS, 0)
    outcome = Outcome(Reason.COMPLETED, "", result=result)
    return report.fit(report.termination_document(outcome, None, logs)).decode()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def terminal_status(image: str, message: str) -> dict[str, Any]:
    now = _now()
    return {
        "status": {
            "phase": "Succeeded",
            "startTime": now,
            "containerStatuses": [
                {
                    "name": CONTAINER,
                    "ready": False,
                    "restartCount": 0,
                    "image": image,
                    "imageID": "",
                    "containerID": f"containerd://{uuid.uuid4().hex}",
                    "started": False,
                    "state": {
                        "terminated": {
                            "exitCode": 0,
                            "reason": "Completed",
                            "message": message,
                            "startedAt": now,
                            "finishedAt": now,
                        }
                    },
                }
            ],
        }
    }


class FakeKubelet:
    """Binds and finishes every new Execution pod of a namespace, on a thread pool."""

    def __init__(self, namespace: str, node: str, threads: int = 8) -> None:
        self.namespace = namespace
        self.node = node
        self.message = termination_message(HELLO_RESULT)
        self.errors: list[str] = []
        self.finished = 0
        self._core = cluster.core_api()
        self._pool = ThreadPoolExecutor(threads)
        self._seen: set[str] = set()
        self._watch = cluster.pod_watch(namespace, self._on_pod)

    def _on_pod(self, event: cluster.Event) -> None:
        kind, pod, _ = event
        name = pod["metadata"]["name"]
        if kind == "ADDED" and cluster.managed(pod) and name not in self._seen:
            self._seen.add(name)
            self._pool.submit(self._run, name, pod["spec"]["containers"][0]["image"])

    def _run(self, name: str, image: str) -> None:
        try:
            binding = {
                "apiVersion": "v1",
                "kind": "Binding",
                "metadata": {"name": name},
                "target": {"apiVersion": "v1", "kind": "Node", "name": self.node},
            }
            # Raw: the client cannot deserialise the Status a binding returns.
            self._core.create_namespaced_pod_binding(
                name, self.namespace, binding, _preload_content=False
            )
            self._core.patch_namespaced_pod_status(
                name, self.namespace, terminal_status(image, self.message)
            )
            self.finished += 1
        except Exception as exc:  # counted and shown; the figure then says what went wrong
            self.errors.append(f"{name}: {type(exc).__name__}: {str(exc)[:200]}")

    @property
    def seen(self) -> int:
        """Execution pods seen created so far."""
        return len(self._seen)

    def stop(self) -> None:
        self._watch.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def summary(self) -> dict[str, Any]:
        return {
            "podsFinished": self.finished,
            "errorCount": len(self.errors),
            "errors": self.errors[:5],
        }


def bound_pod(name: str, node: str) -> dict[str, Any]:
    """An unrelated pod already on the fake node: it stays Pending, no scheduler involved."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "unrelated"}},
        "spec": {
            "nodeName": node,
            "containers": [{"name": "main", "image": "unrelated:never", "command": ["true"]}],
        },
    }
