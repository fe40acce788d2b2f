"""Stop, start, pause and resume one component of the local cluster by its recorded pid.

Every change goes through local-cluster/component.sh, which restarts a component with
the exact command line up.sh gave it. The context managers always undo what they did
and wait until the node is Ready again, so a failing test leaves a healthy cluster.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from kubernetes import client

from tests.support import kube

SCRIPT = kube.REPO / "local-cluster" / "component.sh"
NODE_NAME = "local-node"


def component(action: str, name: str) -> None:
    subprocess.run(["bash", str(SCRIPT), action, name], check=True, capture_output=True)


def node_ready(core: client.CoreV1Api) -> bool:
    """The API server is ready (post-start hooks done: no 503s) and the node is Ready."""
    try:
        subprocess.run(
            ["kubectl", "--kubeconfig", kube.kubeconfig_path(), "get", "--raw", "/readyz"],
            check=True,
            capture_output=True,
            timeout=10,
        )
        node = core.read_node(NODE_NAME, _request_timeout=5)
    except Exception:  # the API server may still be coming back
        return False
    conditions = (node.status.conditions if node.status else None) or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def wait_healthy(core: client.CoreV1Api, timeout: float = 120) -> None:
    kube.wait_until(lambda: node_ready(core), timeout, "node Ready", interval=0.5)


@contextmanager
def stopped(core: client.CoreV1Api, name: str) -> Iterator[None]:
    """`name` stopped for the body of the with-block; started again (and node Ready) after."""
    try:  # a failed stop may still have ended it: start it again either way
        component("stop", name)
        yield
    finally:
        component("start", name)
        wait_healthy(core)


@contextmanager
def paused(core: client.CoreV1Api, name: str) -> Iterator[None]:
    """`name` frozen with SIGSTOP for the body of the with-block, SIGCONT after."""
    try:
        component("pause", name)
        yield
    finally:
        component("resume", name)
        wait_healthy(core)
