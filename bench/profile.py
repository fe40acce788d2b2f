"""Where the operator's time goes: py-spy samples the operator during a benchmark.

    python -m bench.profile burst|controlPlane [--count N] [--out DIR]

Runs the benchmark with `py-spy record` attached to the operator process
(all threads, idle ones too, so waiting on the API shows), writes the
collapsed stacks to DIR/profile-<name>.txt and prints the functions that were
on most samples (inclusive), the API server's request counts during the
run by verb and resource (its /metrics), per Execution, and the CPU each
process of the cluster, the operator and the benchmark's client used, beside
what the whole machine had (a saturated machine cannot go faster by waiting
less).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import burst, cluster, control_plane
from tests.support import kube
from tests.support.operator_process import OperatorProcess

TOP = 40
RESOURCES: tuple[str, ...] = (
    "executions",
    "executions/status",
    "pods",
    "pods/log",
    "pods/status",
    "pods/binding",
)
RESOURCES += ("configmaps", "events")
SPY = ("--format", "raw", "--rate", "50", "--threads", "--idle", "--output")


@contextlib.contextmanager
def _sampled(pid: int, out: Path) -> Iterator[None]:
    spy = subprocess.Popen(
        [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid), *SPY, str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield
    finally:
        spy.send_signal(2)  # SIGINT: py-spy writes what it has and exits
        spy.wait(timeout=60)


def api_requests() -> collections.Counter[str]:
    """The API server's request counters, by verb, resource and subresource."""
    text = subprocess.run(
        ["kubectl", "--kubeconfig", kube.kubeconfig_path(), "get", "--raw", "/metrics"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    counts: collections.Counter[str] = collections.Counter()
    for line in text.splitlines():
        if line.startswith("apiserver_request_total{"):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
            key = f"{labels.get('verb')} {labels.get('resource')}"
            if labels.get("subresource"):
                key += f"/{labels['subresource']}"
            counts[key] += int(float(line.rpartition(" ")[2]))
    return counts


def machine_busy_seconds() -> tuple[float, float]:
    """(CPU seconds busy, CPU seconds in all) over every core since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # guest time is already in user
    tick = os.sysconf("SC_CLK_TCK")
    return (total - idle) / tick, total / tick


def cluster_pids() -> dict[str, int]:
    """The local cluster's components, by name, from the pid files its scripts keep."""
    pids = {}
    for path in sorted((kube.STATE_DIR / "pids").glob("*.pid")):
        with contextlib.suppress(ValueError, OSError):
            pid = int(path.read_text().split()[0])
            if Path(f"/proc/{pid}").exists():
                pids[path.stem] = pid
    return pids


class CpuMeter:
    """CPU seconds each process used inside `window()`, and the whole machine's."""

    def __init__(self) -> None:
        self.operator: int | None = None
        self._pids: dict[str, int] = {}
        self._before: dict[str, float] = {}
        self.used: dict[str, float] = {}
        self._machine: tuple[float, float] = (0.0, 0.0)
        self.machine_busy = 0.0
        self.machine_total = 0.0

    @contextlib.contextmanager
    def window(self) -> Iterator[None]:
        self.start()
        try:
            yield
        finally:
            self.stop()

    def start(self) -> None:
        self._machine = machine_busy_seconds()
        self._pids = {**cluster_pids(), "bench client (and simulated kubelet)": os.getpid()}
        if self.operator is not None:
            self._pids["operator"] = self.operator
        self._before = {name: cluster.cpu_seconds(pid) for name, pid in self._pids.items()}

    def stop(self) -> None:
        for name, pid in self._pids.items():
            with contextlib.suppress(OSError):
                self.used[name] = cluster.cpu_seconds(pid) - self._before[name]
        busy, total = machine_busy_seconds()
        self.machine_busy = busy - self._machine[0]
        self.machine_total = total - self._machine[1]

    def report(self, count: int) -> None:
        cores = os.cpu_count() or 1
        share = self.machine_busy / self.machine_total if self.machine_total else 0.0
        print(
            f"CPU during the run: the machine was {100 * share:.0f}% busy over {cores} cores "
            f"({self.machine_busy:.1f} CPU s of {self.machine_total:.1f});"
            f" {1000 * self.machine_busy / count:.1f} CPU ms per Execution in all,"
            f" so at most {count * cores / self.machine_busy:.0f} Executions/s on this machine"
            " at the same cost"
        )
        for name, used in sorted(self.used.items(), key=lambda item: -item[1]):
            print(f"{used:8.2f} CPU s  {1000 * used / count:7.1f} ms per Execution  {name}")


def top_frames(collapsed: str, limit: int = TOP) -> list[tuple[str, int]]:
    """Functions by the number of samples they were on the stack of (once per sample)."""
    counts: collections.Counter[str] = collections.Counter()
    for line in collapsed.splitlines():
        stack, _, samples = line.rpartition(" ")
        if not stack:
            continue
        frames = {frame.split(" (")[0] for frame in stack.split(";")}
        for frame in frames:
            counts[frame] += int(samples)
    return counts.most_common(limit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=["burst", "controlPlane"])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--no-spy", action="store_true", help="only count API requests")
    parser.add_argument("--out", type=Path, default=Path("bench/results/details"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / f"profile-{args.name}.txt"
    image = cluster.runner_image()
    started: dict[str, Any] = {}
    original = OperatorProcess.start
    meter = CpuMeter()

    def start_and_sample(self: OperatorProcess) -> None:
        original(self)
        assert self.process is not None
        meter.operator = self.process.pid
        if args.no_spy:
            return
        started["spy"] = _sampled(self.process.pid, target)
        started["spy"].__enter__()

    OperatorProcess.start = start_and_sample  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as logs, cluster.e2e_lock():
        before = api_requests()  # under the lock: no other run's requests in the counts
        try:
            if args.name == "burst":
                result = burst.measure(image, args.count, Path(logs), meter.window)
                print({k: v for k, v in result.items() if k != "latenciesMs"})
            else:
                result = control_plane.rounds(image, args.count, 1, Path(logs), meter.window)
                first = result["rounds"][0]
                print({k: v for k, v in first.items() if k != "terminalAfterSeconds"})
        finally:
            OperatorProcess.start = original  # type: ignore[method-assign]
            if "spy" in started:
                started["spy"].__exit__(None, None, None)
        requests = api_requests()
    requests.subtract(before)
    print(
        f"API requests during the run (all clients; the bench made {args.count} POST executions):"
    )
    for key, count in sorted(requests.items(), key=lambda item: -item[1]):
        if count > 0 and key.split()[1] in RESOURCES:
            print(f"{count:7d}  {count / args.count:5.2f} per Execution  {key}")
    meter.report(args.count)
    if args.no_spy:
        return
    total = sum(int(line.rpartition(" ")[2]) for line in target.read_text().splitlines() if line)
    print(f"{total} samples in {target}")
    for frame, samples in top_frames(target.read_text()):
        print(f"{samples:7d} {100 * samples / total:5.1f}%  {frame}")


if __name__ == "__main__":
    main()
