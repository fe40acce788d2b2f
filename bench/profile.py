"""Where the operator's time goes: py-spy samples the operator during a benchmark.

    python -m bench.profile burst|controlPlane|nodeBurst [--count N] [--no-spy] [--cpu] [--out DIR]

Runs the benchmark with `py-spy record` attached to the operator process (all
threads, idle ones too, so waiting on the API shows; `--cpu`: only the thread
holding the GIL, so where the CPU goes), writes the collapsed stacks to
DIR/profile-<name>.txt and prints the functions on most samples (inclusive).
Before them: what the benchmark's measured part cost (`cpu.py`): API requests
and CPU per Execution by process, and the throughput bounds they imply.
py-spy's own CPU is in the machine's; `--no-spy` gives the costs undisturbed.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import burst, cluster, control_plane, node_burst
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
SPY = ("--format", "raw", "--rate", "50", "--threads")


@contextlib.contextmanager
def _sampled(pid: int, out: Path, gil: bool) -> Iterator[None]:
    """py-spy on `pid`: every thread, waiting ones too; `gil`: only the one running Python."""
    spy = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "py-spy"),
            *("record", "--pid", str(pid), *SPY, *(("--gil",) if gil else ("--idle",))),
            *("--output", str(out)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield
    finally:
        spy.send_signal(2)  # SIGINT: py-spy writes what it has and exits
        spy.wait(timeout=60)


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
    parser.add_argument("name", choices=["burst", "controlPlane", "nodeBurst"])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--no-spy", action="store_true", help="only count API requests and CPU")
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="sample only the thread holding the GIL: where Python's CPU goes (default: all)",
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results/details"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / f"profile-{args.name}.txt"
    image = cluster.runner_image()
    started: dict[str, Any] = {}
    original = OperatorProcess.start

    def start_and_sample(self: OperatorProcess) -> None:
        original(self)
        assert self.process is not None
        if args.no_spy:
            return
        started["spy"] = _sampled(self.process.pid, target, gil=args.cpu)
        started["spy"].__enter__()

    OperatorProcess.start = start_and_sample  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as logs, cluster.e2e_lock():
        try:
            if args.name == "burst":
                result = burst.measure(image, args.count, Path(logs))
                print({k: v for k, v in result.items() if k not in ("latenciesMs", "cpu")})
                spent = result["cpu"]
            elif args.name == "nodeBurst":
                result = node_burst.measure(image, args.count, Path(logs))
                for kind in node_burst.KINDS:
                    print(kind, result[kind]["seconds"], "s", result[kind]["stages"])
                spent = result["executions"]["cpu"]
            else:
                result = control_plane.rounds(image, args.count, 1, Path(logs))
                first = result["rounds"][0]
                print({k: v for k, v in first.items() if k not in ("terminalAfterSeconds", "cpu")})
                spent = first["cpu"]
        finally:
            OperatorProcess.start = original  # type: ignore[method-assign]
            if "spy" in started:
                started["spy"].__exit__(None, None, None)
    print(f"API requests per Execution in the measured part (the bench made {args.count}):")
    for key, count in spent.pop("apiRequestsPerExecution").items():
        print(f"{count:7.2f}  {key}")
    print("CPU ms per Execution in the measured part:")
    for name, ms in spent.pop("cpuMsPerExecution").items():
        print(f"{ms:7.1f}  {name}")
    print(json.dumps(spent))
    if args.no_spy:
        return
    total = sum(int(line.rpartition(" ")[2]) for line in target.read_text().splitlines() if line)
    print(f"{total} samples in {target}")
    for frame, samples in top_frames(target.read_text()):
        print(f"{samples:7d} {100 * samples / total:5.1f}%  {frame}")


if __name__ == "__main__":
    main()
