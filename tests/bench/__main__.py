"""All benchmarks: `python -m tests.bench --out DIR` (what `make bench` runs).

Each benchmark writes its own JSON file to DIR; this adds DIR/summary.json
(the headline figures of all of them, plus the machine) and DIR/summary.md.
The cluster benchmark is skipped, with a note, when no cluster is reachable.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.bench import collector_throughput, pod_startup, runner_overhead

MIB = 1024 * 1024


def _timed(run: Callable[[Path], dict[str, Any]], out: Path) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        figures = run(out)
    except Exception as exc:  # one broken benchmark must not hide the others' figures
        figures = {"error": f"{type(exc).__name__}: {exc}"}
    figures["benchSeconds"] = round(time.perf_counter() - started, 1)
    return figures


def _machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "kernel": platform.release(),
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def summarize(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The headline figures; the per-benchmark JSON files have the rest."""
    summary: dict[str, Any] = {"machine": _machine()}
    overhead = results["runnerOverhead"]
    if "error" in overhead:
        summary["runnerOverhead"] = overhead
    else:
        summary["runnerOverhead"] = {
            "bareMedianMs": overhead["bare"]["medianMs"],
            "runnerMedianMs": overhead["runner"]["medianMs"],
            "overheadMedianMs": overhead["overheadMs"]["median"],
            "overheadBestMs": overhead["overheadMs"]["best"],
            "runs": overhead["runs"],
        }
    collector = results["collectorThroughput"]
    if "error" in collector:
        summary["collectorThroughput"] = collector
    else:
        down = collector["backendDown"]
        summary["collectorThroughput"] = {
            "lineBytes": collector["lineBytes"],
            "burstLinesPerSecond": collector["burst"]["linesPerSecond"],
            "burstDelivered": f"{collector['burst']['delivered']}/{collector['burst']['lines']}",
            "shippingLinesPerSecond": collector["shipping"]["linesPerSecond"],
            "backendDownLines": down["lines"],
            "backendDownDropped": down["counters"]["dropped"],
            "backendDownPeakRssBytes": down["peakRssBytes"],
            "backendDownRssGrowthBytes": down["peakRssBytes"] - down["peakRssBytesBeforeCollector"],
            "backendDownCloseSeconds": round(down["closeSeconds"], 2),
        }
    startup = results["podStartup"]
    if "skipped" in startup or "error" in startup:
        summary["podStartup"] = startup
    else:
        summary["podStartup"] = {
            "runs": startup["runs"],
            "bareMedianMs": startup["bare"]["medianMs"],
            "runnerMedianMs": startup["runner"]["medianMs"],
            "runnerMinusBareMedianMs": startup["runnerMinusBareMedianMs"],
            "executionMedianMs": startup["execution"]["medianMs"],
            "executionMinusBareMedianMs": startup["executionMinusBareMedianMs"],
            "statusLagMedianMs": startup["statusLag"]["medianMs"],
            "statusLagWorstMs": startup["statusLag"]["worstMs"],
        }
    summary["benchSeconds"] = {name: figures["benchSeconds"] for name, figures in results.items()}
    return summary


def _section(title: str, figures: dict[str, Any], rows: list[tuple[str, str]]) -> list[str]:
    lines = [f"## {title}", ""]
    if "error" in figures or "skipped" in figures:
        note = figures.get("error") or figures.get("skipped")
        return [*lines, f"Not measured: {note}", ""]
    lines += ["| figure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return [*lines, ""]


def markdown(summary: dict[str, Any]) -> str:
    machine = summary["machine"]
    lines = [
        "# Benchmarks",
        "",
        f"{machine['date']} — Python {machine['python']}, Linux {machine['kernel']}, "
        f"{machine['cpus']} CPUs. Details in the JSON files next to this one.",
        "",
    ]
    ro = summary["runnerOverhead"]
    lines += _section(
        "Runner overhead (hello through the runner vs bare `python -c`, same machine)",
        ro,
        []
        if "error" in ro
        else [
            ("bare `python -c`, median", f"{ro['bareMedianMs']} ms"),
            ("through the runner, median", f"{ro['runnerMedianMs']} ms"),
            ("overhead, median (best)", f"{ro['overheadMedianMs']} ms ({ro['overheadBestMs']} ms)"),
            ("runs", str(ro["runs"])),
        ],
    )
    ct = summary["collectorThroughput"]
    lines += _section(
        "Log collector",
        ct,
        []
        if "error" in ct
        else [
            ("line size", f"{ct['lineBytes']} bytes"),
            ("burst to a live backend", f"{ct['burstLinesPerSecond']:,} lines/s"),
            ("delivered", ct["burstDelivered"]),
            ("shipping alone (queued first)", f"{ct['shippingLinesPerSecond']:,} lines/s"),
            (
                f"backend down, {ct['backendDownLines']:,} lines: peak RSS",
                f"{ct['backendDownPeakRssBytes'] / MIB:.1f} MiB "
                f"(+{ct['backendDownRssGrowthBytes'] / MIB:.1f} MiB for the collector)",
            ),
            ("backend down: dropped", f"{ct['backendDownDropped']:,}"),
            ("backend down: final flush", f"{ct['backendDownCloseSeconds']} s"),
        ],
    )
    ps = summary["podStartup"]
    lines += _section(
        "Pod start-up on the local cluster (create → Succeeded, sequential)",
        ps,
        []
        if "error" in ps or "skipped" in ps
        else [
            ("bare pod, `python3 -c 'print(1)'`, median", f"{ps['bareMedianMs']} ms"),
            ("runner pod, hello through the runner, median", f"{ps['runnerMedianMs']} ms"),
            ("runner minus bare, median", f"{ps['runnerMinusBareMedianMs']} ms"),
            (
                "hello Execution via the operator, apply → Succeeded, median",
                f"{ps['executionMedianMs']} ms",
            ),
            ("Execution minus bare pod, median", f"{ps['executionMinusBareMedianMs']} ms"),
            (
                "status lag: pod ended → Execution terminal, median (worst)",
                f"{ps['statusLagMedianMs']} ms ({ps['statusLagWorstMs']} ms)",
            ),
            ("runs each", str(ps["runs"])),
        ],
    )
    seconds = ", ".join(f"{name} {value} s" for name, value in summary["benchSeconds"].items())
    lines += [f"Benchmark run times: {seconds}.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    results = {
        "runnerOverhead": _timed(runner_overhead.run, out),
        "collectorThroughput": _timed(collector_throughput.run, out),
        "podStartup": _timed(pod_startup.run, out),
    }
    summary = summarize(results)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    text = markdown(summary)
    (out / "summary.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
