"""`make demo`: run the operator, apply an example, print what came back, stop the operator.

The cluster, the CRD and the runner image are the Makefile's prerequisites.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

NAMESPACE = "demo"


def kubectl(kubeconfig: str, *args: str, check: bool = True) -> str:
    done = subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, *args], capture_output=True, text=True, check=False
    )
    if check and done.returncode != 0:
        sys.exit(f"kubectl {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--example", default="examples/hello.yaml")
    parser.add_argument("--runner-image", default="localhost/execution-runner:dev")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()

    example = Path(args.example)
    name = next(
        line.split(":", 1)[1].strip()
        for line in example.read_text().splitlines()
        if line.strip().startswith("name:")
    )
    kubectl(args.kubeconfig, "create", "namespace", NAMESPACE, check=False)
    kubectl(args.kubeconfig, "-n", NAMESPACE, "delete", "execution", name, "--ignore-not-found")

    log_path = Path(".cluster") / "logs" / "demo-operator.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "KUBECONFIG": args.kubeconfig,
        "EXECUTION_OPERATOR_RUNNER_IMAGE": args.runner_image,
        "EXECUTION_OPERATOR_NAMESPACES": NAMESPACE,
        "EXECUTION_OPERATOR_LISTEN_ADDRESS": "127.0.0.1",
        "EXECUTION_OPERATOR_METRICS_PORT": "0",
        "EXECUTION_OPERATOR_LIVENESS_PORT": "0",
    }
    with log_path.open("wb") as log:
        operator = subprocess.Popen(
            [sys.executable, "-m", "execution_operator"], env=env, stdout=log, stderr=log
        )
    print(f"operator started (pid {operator.pid}, log {log_path})")
    try:
        kubectl(args.kubeconfig, "-n", NAMESPACE, "apply", "-f", str(example))
        print(f"applied {example}; waiting for execution/{name} ...")
        status = wait_terminal(args.kubeconfig, name, args.timeout, operator)
    finally:
        operator.send_signal(signal.SIGTERM)
        operator.wait(timeout=30)
        print(f"operator stopped (pid {operator.pid})")
    print(kubectl(args.kubeconfig, "-n", NAMESPACE, "get", "execution", name), end="")
    print(f"phase:  {status.get('phase')} ({status.get('reason')}, code {status.get('code')})")
    print(f"result: {json.dumps(status.get('result'))}")
    return 0 if status.get("phase") == "Succeeded" else 1


def wait_terminal(
    kubeconfig: str, name: str, timeout: float, operator: subprocess.Popen[bytes]
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if operator.poll() is not None:
            sys.exit("the operator exited; see its log")
        out = kubectl(kubeconfig, "-n", NAMESPACE, "get", "execution", name, "-o", "json")
        status: dict[str, Any] = json.loads(out).get("status") or {}
        if status.get("phase") in ("Succeeded", "Failed", "Cancelled"):
            return status
        time.sleep(0.2)
    sys.exit(f"execution/{name} did not finish within {timeout}s")


if __name__ == "__main__":
    sys.exit(main())
