"""Cluster plumbing shared by the cluster benchmarks: the lock, watches, objects, the operator.

Watches read the raw JSON stream (no client models: at thousands of events
the client's deserialisation would cost more CPU than the thing measured) and
stamp each event with this process's monotonic clock; API timestamps have
one-second precision on Kubernetes 1.20.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from execution_operator import models, naming
from kubernetes import client

from tests.support import kube
from tests.support.operator_process import OperatorProcess, install_crds
from tests.support.runner_pod import make_runner_image

LOCK_FILE = os.environ.get("EXECUTION_OPERATOR_E2E_LOCK", "/var/lib/execution-operator-e2e.lock")
NOWHERE = {"kubernetes.io/hostname": "bench-node-that-does-not-exist"}
HELLO = "print('hello')\nresult = {'greeting': 'hello'}\n"
TERMINAL = ("Succeeded", "Failed", "Cancelled")
NAMESPACE_GONE_SECONDS = 300
Body = dict[str, Any]
Event = tuple[str, Body, float]  # type, object, monotonic time seen


_held = threading.local()


@contextlib.contextmanager
def e2e_lock() -> Iterator[None]:
    """The machine-wide lock every operator-against-the-cluster run holds (as `flock` does).

    Re-entrant within a thread: a second flock on another descriptor would wait for itself.
    """
    if getattr(_held, "depth", 0):
        _held.depth += 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    with open(LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        _held.depth = 1
        try:
            yield
        finally:
            _held.depth = 0
            fcntl.flock(handle, fcntl.LOCK_UN)


def core_api() -> Any:
    return client.CoreV1Api(kube.api_client())


def custom_api(api: client.ApiClient | None = None) -> Any:
    return client.CustomObjectsApi(api or kube.api_client())


class Watch:
    """Every event of one list endpoint, from a given resourceVersion on, with its time."""

    def __init__(self, lister: Callable[..., Any], on_event: Callable[[Event], None]) -> None:
        self._lister = lister
        self._on_event = on_event
        self._stop = threading.Event()
        listed = json.loads(lister(_preload_content=False).data)
        self._version = listed["metadata"]["resourceVersion"]
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            response = self._lister(
                watch=True,
                resource_version=self._version,
                allow_watch_bookmarks=True,
                timeout_seconds=300,
                _preload_content=False,
            )
            pending = b""
            for chunk in response.stream(65536):
                seen = time.monotonic()
                pending += chunk
                *whole, pending = pending.split(b"\n")
                for line in whole:
                    event = json.loads(line)
                    obj = event["object"]
                    self._version = obj["metadata"].get("resourceVersion", self._version)
                    if event["type"] != "BOOKMARK":
                        self._on_event((event["type"], obj, seen))
                if self._stop.is_set():
                    response.release_conn()
                    return

    def stop(self) -> None:
        self._stop.set()


def pod_watch(namespace: str, on_event: Callable[[Event], None]) -> Watch:
    core = core_api()
    return Watch(lambda **kw: core.list_namespaced_pod(namespace, **kw), on_event)


def execution_watch(namespace: str, on_event: Callable[[Event], None]) -> Watch:
    custom = custom_api()
    return Watch(
        lambda **kw: custom.list_namespaced_custom_object(
            models.GROUP, models.VERSION, namespace, models.PLURAL, **kw
        ),
        on_event,
    )


def owner_of(pod: Body) -> str | None:
    for ref in pod["metadata"].get("ownerReferences") or []:
        if ref.get("kind") == models.KIND:
            return str(ref["name"])
    return None


def managed(pod: Body) -> bool:
    return bool(pod["metadata"].get("labels", {}).get(naming.MANAGED_BY_LABEL))


def execution(name: str, node_selector: dict[str, str] | None = None, **spec: Any) -> Body:
    body: Body = {
        "apiVersion": models.API_VERSION,
        "kind": models.KIND,
        "metadata": {"name": name},
        "spec": {"code": HELLO, **spec},
    }
    if node_selector:
        body["spec"]["podTemplate"] = {"nodeSelector": node_selector}
    return body


def create_all(
    namespace: str, bodies: list[Body], create: Callable[[str, Body], Any], threads: int = 8
) -> dict[str, float]:
    """Creates objects concurrently; the monotonic time each create call returned, by name."""
    returned: dict[str, float] = {}

    def one(body: Body) -> None:
        create(namespace, body)
        returned[body["metadata"]["name"]] = time.monotonic()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, bodies))
    return returned


def create_execution(custom: Any) -> Callable[[str, Body], Any]:
    return lambda namespace, body: custom.create_namespaced_custom_object(
        models.GROUP, models.VERSION, namespace, models.PLURAL, body
    )


@contextlib.contextmanager
def namespace(prefix: str) -> Iterator[str]:
    core = core_api()
    name = kube.create_namespace(core, prefix)
    try:
        yield name
    finally:
        # Gone before the lock is released (the next run's operator would inherit its cleanup).
        if not kube.delete_namespace(core, name, NAMESPACE_GONE_SECONDS):
            print(f"bench: namespace {name} still terminating after {NAMESPACE_GONE_SECONDS} s")


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    return kube.wait_until(condition, timeout, what, interval=0.05)


CONTAINERD_SOCKET = kube.STATE_DIR / "containerd" / "containerd.sock"


def node_containers() -> int:
    """Containers the node's containerd holds for pods (their sandboxes included)."""
    listed = subprocess.run(
        ["ctr", "--address", str(CONTAINERD_SOCKET), "-n", "k8s.io", "containers", "ls", "-q"],
        check=True,
        capture_output=True,
        text=True,
    )
    return len(listed.stdout.split())


def wait_node_quiet(baseline: int, timeout: float = 120) -> None:
    """Waits until the kubelet has torn down the pods of a deleted namespace.

    Their API objects go first; unmounts, sandbox and network teardown follow,
    and would otherwise fall into the next measurement.
    """
    kube.wait_until(
        lambda: node_containers() <= baseline, timeout, "the node's pod teardown", interval=0.5
    )


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for pid {pid}")


# BENCH_OPERATOR_TRACEMALLOC=25: the operator traces allocations (slower) and every RSS
# sample also puts its memory report (execution_operator.memory) in the operator's log;
# =0: the report without tracing.
TRACEMALLOC_ENV = "BENCH_OPERATOR_TRACEMALLOC"
REPORT_MARK = "memory: RSS"


@contextlib.contextmanager
def operator(log_dir: Path, image: str, tag: str) -> Iterator[OperatorProcess]:
    """The operator as a real process (installs the CRDs first)."""
    install_crds()
    log_dir.mkdir(parents=True, exist_ok=True)
    frames = os.environ.get(TRACEMALLOC_ENV)
    process = OperatorProcess(
        log_dir / f"operator-{tag}-{uuid.uuid4().hex[:6]}.log",
        image,
        {"PYTHONTRACEMALLOC": frames} if frames and frames != "0" else None,
    )
    with process:
        yield process


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(pid: int, timeout: float, window: float = 5.0, busy: float = 0.05) -> bool:
    """Waits until the process used under `busy` of a core over `window` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(window)
        if cpu_seconds(pid) - before < busy * window:
            return True
    return False


def memory_report(process: OperatorProcess) -> None:
    """With BENCH_OPERATOR_TRACEMALLOC set: the operator logs what holds its memory."""
    if not os.environ.get(TRACEMALLOC_ENV) or process.process is None:
        return
    before = process.log_text().count(REPORT_MARK)
    process.process.send_signal(signal.SIGUSR2)
    wait_for(lambda: process.log_text().count(REPORT_MARK) > before, 120, "the memory report")


def runner_image() -> str:
    return make_runner_image()
