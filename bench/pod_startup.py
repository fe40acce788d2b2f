"""Pod start-up on the local cluster: pod create -> phase Succeeded, sequential runs.

(a) a bare pod running `python3 -c 'print(1)'` on the runner image;
(b) a runner-image pod running hello code through the runner (payload ConfigMap
    made before the clock starts, as the operator makes it before the pod);
(c) a hello Execution through the operator: apply -> status.phase Succeeded
    (the operator runs as a process started and stopped here), and the status
    lag: from a watch seeing the pod end to a watch seeing the Execution say so.
Both pods have the restricted security context. The phase is polled every
20 ms; one unmeasured warm-up pod of each kind goes first (the first pod of a
new namespace is slower). Skipped, with a note, when no cluster answers.

The kubelet notices container starts and exits by relisting every second
(PLEG), so the figures cluster around whole seconds.

    python -m bench.pod_startup --out bench-results
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from execution_operator import models
from execution_runner import protocol
from kubernetes import client, watch

from bench.cluster import e2e_lock
from tests.support import kube
from tests.support.operator_process import OperatorProcess, install_crds
from tests.support.runner_pod import (
    create_pod,
    make_runner_image,
    payload_config_map,
    pod_log,
    runner_pod_manifest,
    wait_for_pod,
)

RUNS = 10
POLL_SECONDS = 0.02
HELLO = "print('hello')\nresult = {'greeting': 'hello'}\n"


def _cluster() -> client.CoreV1Api | str:
    """The API, or why there is none (nothing is started here)."""
    try:
        api = kube.api_client()
        client.VersionApi(api).get_code(_request_timeout=5)
    except Exception as exc:  # any failure means: no cluster to measure
        return f"no cluster reachable with {kube.kubeconfig_path()} ({type(exc).__name__})"
    return client.CoreV1Api(api)


def _bare_pod(name: str, image: str) -> dict[str, Any]:
    pod = kube.restricted_python_pod(name, "print(1)")
    pod["spec"]["containers"][0]["image"] = image  # the same image as the runner's pods
    return pod


def _time_pod(core: client.CoreV1Api, namespace: str, manifest: dict[str, Any]) -> float:
    name = manifest["metadata"]["name"]
    started = time.perf_counter()
    create_pod(core, namespace, manifest)
    finished = wait_for_pod(core, namespace, name, timeout=120, interval=POLL_SECONDS)
    seconds = time.perf_counter() - started
    if finished.phase != "Succeeded":
        raise RuntimeError(f"pod {name} ended {finished.phase}")
    return seconds * 1000


def _summary(samples: list[float]) -> dict[str, Any]:
    return {
        "medianMs": round(statistics.median(samples)),
        "bestMs": round(min(samples)),
        "worstMs": round(max(samples)),
        "samplesMs": [round(s) for s in samples],
    }


def measure(core: client.CoreV1Api, runs: int = RUNS, image: str | None = None) -> dict[str, Any]:
    image = image or make_runner_image()
    with e2e_lock():
        return _measure(core, runs, image)


def _measure(core: client.CoreV1Api, runs: int, image: str) -> dict[str, Any]:
    namespace = kube.create_namespace(core, "bench-pod-startup")
    try:
        _time_pod(core, namespace, _bare_pod("bare-warm-up", image))
        bare = [_time_pod(core, namespace, _bare_pod(f"bare-{i}", image)) for i in range(runs)]
        runner = []
        for name in ["runner-warm-up"] + [f"runner-{i}" for i in range(runs)]:
            core.create_namespaced_config_map(
                namespace, payload_config_map(f"{name}-payload", HELLO, runner={})
            )
            seconds = _time_pod(
                core, namespace, runner_pod_manifest(name, image, f"{name}-payload")
            )
            if name != "runner-warm-up":
                runner.append(seconds)
            result = protocol.parse_framed_result(pod_log(core, namespace, name).splitlines()[-1])
            if result != {"greeting": "hello"}:
                raise RuntimeError(f"pod {name} returned {result!r}")
        executions, lags = _time_executions(core.api_client, namespace, image, runs)
    finally:
        core.delete_namespace(namespace, propagation_policy="Background")
    return {
        "runs": runs,
        "pollMs": POLL_SECONDS * 1000,
        "image": image,
        "bare": _summary(bare),
        "runner": _summary(runner),
        "runnerMinusBareMedianMs": round(statistics.median(runner) - statistics.median(bare)),
        "execution": _summary(executions),
        "executionMinusBareMedianMs": round(
            statistics.median(executions) - statistics.median(bare)
        ),
        "statusLag": _summary(lags),
    }


class _FirstSeen:
    """Watches a namespace and notes when each pod ended and each Execution became terminal."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.pod_done: dict[str, float] = {}
        self.execution_done: dict[str, tuple[float, str]] = {}
        self._stop = threading.Event()
        core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
        self._threads = [
            threading.Thread(
                target=self._run, args=(core.list_namespaced_pod, namespace, self._pod), daemon=True
            ),
            threading.Thread(
                target=self._run,
                args=(
                    lambda **kw: custom.list_namespaced_custom_object(
                        models.GROUP, models.VERSION, kw.pop("namespace"), models.PLURAL, **kw
                    ),
                    namespace,
                    self._execution,
                ),
                daemon=True,
            ),
        ]
        for thread in self._threads:
            thread.start()

    def _run(self, lister: Any, namespace: str, note: Any) -> None:
        while not self._stop.is_set():
            for event in watch.Watch().stream(lister, namespace=namespace, timeout_seconds=5):
                note(event["object"], time.perf_counter())

    def _pod(self, pod: Any, seen: float) -> None:
        if pod.status.phase in ("Succeeded", "Failed"):
            self.pod_done.setdefault(pod.metadata.name, seen)

    def _execution(self, body: dict[str, Any], seen: float) -> None:
        status = body.get("status") or {}
        if status.get("phase") in ("Succeeded", "Failed"):
            self.execution_done.setdefault(body["metadata"]["name"], (seen, status["podName"]))

    def lags_ms(self, names: list[str]) -> list[float]:
        """Pod terminal -> Execution terminal, as seen by watches on the same client."""
        lags = []
        for name in names:
            seen, pod = self.execution_done[name]
            lags.append((seen - self.pod_done[pod]) * 1000)
        return lags

    def stop(self) -> None:
        self._stop.set()


def _time_executions(
    api: client.ApiClient, namespace: str, image: str, runs: int
) -> tuple[list[float], list[float]]:
    """Apply -> Succeeded of hello Executions (the operator running as a real process),
    and how long after its pod ended each Execution's status said so."""
    install_crds()
    custom = client.CustomObjectsApi(api)
    samples = []
    seen = _FirstSeen(api, namespace)
    names = [f"exe-{i}" for i in range(runs)]
    with tempfile.TemporaryDirectory() as tmp, OperatorProcess(Path(tmp) / "op.log", image):
        for name in ["exe-warm-up", *names]:
            body = {
                "apiVersion": models.API_VERSION,
                "kind": models.KIND,
                "metadata": {"name": name},
                "spec": {"code": HELLO},
            }
            started = time.perf_counter()
            custom.create_namespaced_custom_object(
                models.GROUP, models.VERSION, namespace, models.PLURAL, body
            )

            def finished(name: str = name) -> dict[str, Any] | None:
                obj: dict[str, Any] = custom.get_namespaced_custom_object(
                    models.GROUP, models.VERSION, namespace, models.PLURAL, name
                )
                status: dict[str, Any] = obj.get("status") or {}
                return status if status.get("phase") in ("Succeeded", "Failed") else None

            status = kube.wait_until(finished, 120, f"Execution {name}", interval=POLL_SECONDS)
            if status.get("result") != {"greeting": "hello"}:
                raise RuntimeError(f"Execution {name} ended {status!r}")
            if name != "exe-warm-up":
                samples.append((time.perf_counter() - started) * 1000)
        kube.wait_until(
            lambda: all(n in seen.execution_done for n in names), 30, "the watches to catch up"
        )
    seen.stop()
    return samples, seen.lags_ms(names)


def run(out_dir: str | Path, runs: int = RUNS, image: str | None = None) -> dict[str, Any]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    core = _cluster()
    figures = {"skipped": core} if isinstance(core, str) else measure(core, runs, image)
    (out / "pod_startup.json").write_text(json.dumps(figures, indent=2) + "\n")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    print(json.dumps(run(args.out, args.runs), indent=2))


if __name__ == "__main__":
    main()
