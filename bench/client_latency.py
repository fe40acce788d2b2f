"""The Python client on the local cluster, through the operator (a process started here).

(a) `execute()` of hello, sequential: call → result;
(b) ten `execute()` calls at once from a thread pool, each with its own env_vars:
    wall time of the batch;
(c) `kill()` of a running sleeper: call → Cancelled (what kill/kill_all wait for).

    python -m bench.client_latency --out bench-results
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from execution_operator.client import ClusterExecutor
from kubernetes import client

from tests.support import kube
from tests.support.operator_process import OperatorProcess, install_crds
from tests.support.runner_pod import make_runner_image

RUNS = 5


def _ms(samples: list[float]) -> dict[str, Any]:
    return {
        "medianMs": round(statistics.median(samples) * 1000),
        "bestMs": round(min(samples) * 1000),
        "worstMs": round(max(samples) * 1000),
    }


def _timed(call: Any) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def measure(executor: ClusterExecutor, runs: int = RUNS) -> dict[str, Any]:
    executor.execute("result = 0")  # warm-up: the first pod of a namespace is slower
    hello = [_timed(lambda: executor.execute("result = data", {"n": 1})) for _ in range(runs)]

    def one(i: int) -> Any:
        return executor.execute("import os\nresult = os.environ['T']", {}, {"T": str(i)})

    with ThreadPoolExecutor(max_workers=10) as pool:
        batch = _timed(lambda: list(pool.map(one, range(10))))

    kills = []
    for _ in range(runs):
        handle = executor.submit("import time\ntime.sleep(600)", timeout_secs=900)
        kube.wait_until(lambda h=handle: h.status.get("phase") == "Running", 120, "Running")
        kills.append(_timed(lambda h=handle: executor.kill(h, timeout=60)))
    return {
        "runs": runs,
        "executeHello": _ms(hello),
        "tenConcurrentSeconds": round(batch, 2),
        "killToCancelled": _ms(kills),
    }


def run(out: Path) -> dict[str, Any]:
    api = kube.api_client()
    core = client.CoreV1Api(api)
    install_crds()
    namespace = kube.create_namespace(core, "bench-client")
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            OperatorProcess(Path(tmp) / "op.log", make_runner_image()),
            ClusterExecutor(kubeconfig=kube.kubeconfig_path(), namespace=namespace) as executor,
        ):
            figures = measure(executor)
    finally:
        kube.delete_namespace(core, namespace, 120)
    out.mkdir(parents=True, exist_ok=True)
    (out / "client_latency.json").write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    print(json.dumps(run(parser.parse_args().out), indent=2))
