"""The test log backend, run inside the cluster's network namespace where pods reach it.

The backend (`python -m tests.support.log_backend`) is started with
`nsenter --net=/run/netns/<ns>` (not `ip netns exec`, which would also remount
/sys) and listens on the pod bridge's gateway address, the address every pod
routes through; it exists only inside that namespace. Its pid is recorded, and
exactly that process is stopped at the end.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from kubernetes import client

from tests.support import kube
from tests.support.runner_pod import create_pod

NETNS = os.environ.get("LOCAL_CLUSTER_NETNS", "exop")
NETNS_PATH = Path("/run/netns") / NETNS
POD_GATEWAY = "10.214.0.1"  # local-cluster/lib.sh POD_GATEWAY
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0


def in_netns(*argv: str) -> list[str]:
    return ["nsenter", f"--net={NETNS_PATH}", *argv]


def gateway_present() -> bool:
    """The pod bridge (made by the CNI plugin with the first pod) holds the gateway address."""
    shown = subprocess.run(
        in_netns("ip", "-4", "-o", "addr", "show"), capture_output=True, text=True, check=True
    ).stdout
    return f" {POD_GATEWAY}/" in shown


def ensure_pod_bridge(core: client.CoreV1Api, namespace: str, image: str) -> None:
    """Runs one short pod when no pod has made the bridge yet (a freshly started cluster)."""
    if gateway_present():
        return
    create_pod(
        core,
        namespace,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "bridge-probe"},
            "spec": {
                "restartPolicy": "Never",
                "automountServiceAccountToken": False,
                "containers": [
                    {
                        "name": "main",
                        "image": image,
                        "imagePullPolicy": "Never",
                        "command": ["python3", "-c", "pass"],
                        "securityContext": kube.restricted_security_context(),
                    }
                ],
            },
        },
    )
    kube.wait_until(gateway_present, 60, f"{POD_GATEWAY} on the pod bridge in netns {NETNS}")


class NetnsLogBackend:
    """`python -m tests.support.log_backend` on POD_GATEWAY:<free port> inside the namespace."""

    def __init__(self, out: Path, host: str = POD_GATEWAY, port: int = 0) -> None:
        self.out = out
        self.host = host
        self.port = port  # 0: the kernel picks one; a restart keeps the one it got
        self.pid = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/logs"

    def start(self) -> NetnsLogBackend:
        # nsenter execs the command in place: the recorded pid is the backend itself.
        self._process = subprocess.Popen(
            in_netns(
                sys.executable,
                "-m",
                "tests.support.log_backend",
                "--host",
                self.host,
                "--port",
                str(self.port),  # 0: the kernel picks a free port; the backend prints it
                "--out",
                str(self.out),
            ),
            cwd=kube.REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        self.pid = self._process.pid
        try:
            line = self._first_line()
            prefix = f"listening on http://{self.host}:"
            if not line.startswith(prefix):
                raise RuntimeError(f"unexpected first line from the log backend: {line!r}")
            self.port = int(line[len(prefix) :].split("/", 1)[0])
            if os.stat(f"/proc/{self.pid}/ns/net").st_ino != NETNS_PATH.stat().st_ino:
                raise RuntimeError(f"the log backend (pid {self.pid}) is not in netns {NETNS}")
        except BaseException:
            self.stop()
            raise
        return self

    def _first_line(self) -> str:
        process = self._process
        assert process is not None
        assert process.stdout is not None
        assert process.stderr is not None
        deadline = time.monotonic() + START_TIMEOUT
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if selector.select(timeout=0.1):
                    line = process.stdout.readline().decode().strip()
                    if line:
                        return line
                if process.poll() is not None:
                    error = process.stderr.read().decode()
                    raise RuntimeError(f"the log backend exited ({process.returncode}): {error}")
        raise RuntimeError(f"the log backend did not start within {START_TIMEOUT}s")

    def stop(self) -> None:
        """SIGTERM to the recorded pid (SIGKILL if it lingers); nothing else is touched."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                process.wait(STOP_TIMEOUT)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()

    def __enter__(self) -> NetnsLogBackend:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- what arrived (the backend writes a request's line before answering it) -------

    def requests(self) -> list[dict[str, Any]]:
        """Every request so far: path, headers (lower-case names), decoded body, status."""
        if not self.out.exists():
            return []
        complete = self.out.read_text().split("\n")[:-1]  # a line being written is left out
        return [json.loads(line) for line in complete if line]

    def records(self) -> list[dict[str, Any]]:
        """Records of the accepted requests, in arrival order."""
        return [
            record
            for request in self.requests()
            if 200 <= request["status"] < 300 and isinstance(request["body"], dict)
            for record in request["body"].get("logs", [])
        ]
