"""The operator as a real process against the local cluster (started and stopped by pid)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import TracebackType

from tests.support import kube

CRD_DIR = kube.REPO / "crds"


def install_crds() -> None:
    subprocess.run(
        ["kubectl", "--kubeconfig", kube.kubeconfig_path(), "apply", "-f", str(CRD_DIR)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            "kubectl",
            "--kubeconfig",
            kube.kubeconfig_path(),
            "wait",
            "--for=condition=Established",
            "crd/executions.execution-operator.io",
            "--timeout=30s",
        ],
        check=True,
        capture_output=True,
    )


class OperatorProcess:
    """`python -m execution_operator` with its output in a log file; restartable."""

    def __init__(self, log_path: Path, runner_image: str, extra_env: dict[str, str] | None = None):
        self.log_path = log_path
        self.liveness_port = _free_port()
        self.metrics_port = _free_port()
        self.env = {
            **os.environ,
            "KUBECONFIG": kube.kubeconfig_path(),
            "EXECUTION_OPERATOR_RUNNER_IMAGE": runner_image,
            "EXECUTION_OPERATOR_IMAGE_PULL_POLICY": "Never",
            "EXECUTION_OPERATOR_LIVENESS_PORT": str(self.liveness_port),
            "EXECUTION_OPERATOR_METRICS_PORT": str(self.metrics_port),
            "EXECUTION_OPERATOR_LISTEN_ADDRESS": "127.0.0.1",
            # Cluster-wide: with a namespace pattern, kopf noticed new namespaces only
            # after up to a minute now and then, which a test cannot wait for.
            "EXECUTION_OPERATOR_NAMESPACES": "",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "execution_operator"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=kube.REPO,
        )
        log.close()
        try:
            kube.wait_until(self._alive, 30, "the operator's liveness endpoint")
        except BaseException:  # never leave an operator acting on the cluster behind
            self.stop()
            raise

    def _alive(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"operator exited: {self.log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.liveness_port}/healthz", timeout=1
            ) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as a crash or an OOM kill would."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def metrics_text(self) -> str:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5
        ) as response:
            return response.read().decode()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def __enter__(self) -> OperatorProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
