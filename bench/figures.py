"""The headline figures: their goals, how a value meets one, and the two renderings.

Pure functions only (no clock, no cluster): `document()` builds latest.json's
shape and `markdown()` turns it into latest.md.
"""

from __future__ import annotations

import math
import operator
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "=": lambda value, goal: math.isclose(value, goal, rel_tol=0, abs_tol=1e-12),
}


@dataclass(frozen=True)
class Goal:
    name: str
    unit: str
    goal: str  # "<= 20": a comparison and a number
    what: str  # one line for latest.md

    def met(self, value: float | None) -> bool:
        if value is None or math.isnan(value):
            return False
        comparison, number = self.goal.split()
        return _COMPARE[comparison](value, float(number))


GOALS: tuple[Goal, ...] = (
    Goal("runnerOverheadMs", "ms", "<= 20", "median hello through the runner - bare python3 -c"),
    Goal("runnerVsSeedRatio", "ratio", "<= 1.0", "runner hello / fresh python -c wrapper on stdin"),
    Goal("e2eVsBarePodRatio", "ratio", "<= 1.2", "median apply → Succeeded / bare pod, sequential"),
    Goal("statusLagP50Ms", "ms", "<= 50", "pod terminal → Execution terminal, median"),
    Goal("burstCreateToPodP50Ms", "ms", "<= 30", "burst: Execution created → its pod, p50"),
    Goal("burstCreateToPodP99Ms", "ms", "<= 150", "burst: Execution created → its pod, p99"),
    Goal(
        "controlPlaneExecutionsPerSecond",
        "Executions/s",
        ">= 50",
        "Executions reaching terminal per second, kubelet simulated",
    ),
    Goal(
        "nodeBurstVsBarePodsRatio", "ratio", ">= 0.9", "hello Executions / bare pods drained per s"
    ),
    Goal("collectorLinesPerSecond", "lines/s", ">= 100000", "lines delivered per second, burst"),
    Goal(
        "collectorHealthyBurstDeliveredFraction",
        "fraction",
        "= 1.0",
        "lines delivered / printed, healthy backend, through the runner",
    ),
    Goal("collectorBackendDownPeakRssMiB", "MiB", "<= 64", "collector peak RSS, backend down"),
    Goal("operatorRssMiB", "MiB", "<= 200", "operator RSS with many Executions and pods present"),
    Goal("operatorRssGrowthPercent", "%", "<= 10", "operator RSS growth, round 1 → round 3"),
)
GOAL_BY_NAME: dict[str, Goal] = {goal.name: goal for goal in GOALS}


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 200 samples is the 198th smallest)."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def median(samples: Sequence[float]) -> float:
    return float(statistics.median(samples))


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


def growth_percent(first: float, last: float) -> float:
    return ratio(last - first, first) * 100


def rounded(value: float) -> float:
    """Six significant digits (a fraction just under 1 stays under 1), whole numbers if big."""
    if math.isnan(value) or abs(value) >= 1000:
        return value if math.isnan(value) else float(round(value))
    return float(f"{value:.6g}")


def figure(name: str, value: float | None, note: str | None = None) -> dict[str, Any]:
    goal = GOAL_BY_NAME[name]
    shown = None if value is None or math.isnan(value) else rounded(value)
    entry: dict[str, Any] = {
        "value": shown,
        "unit": goal.unit,
        "goal": goal.goal,
        "met": goal.met(value),
    }
    if note:
        entry["note"] = note
    return entry


def document(
    machine: Mapping[str, Any],
    values: Mapping[str, float | None],
    notes: Mapping[str, str] | None = None,
    run: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """latest.json: every listed figure, a missing one with value null and met false."""
    notes = notes or {}
    figures = {
        goal.name: figure(
            goal.name,
            values.get(goal.name),
            notes.get(goal.name) or (None if goal.name in values else "not measured"),
        )
        for goal in GOALS
    }
    return {"machine": dict(machine), "figures": figures, "run": dict(run or {})}


def _shown(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def table(doc: Mapping[str, Any], before: Mapping[str, Any] | None = None) -> list[str]:
    """The figures as a markdown table; with `before` (an older latest.json), its values too."""
    earlier = (before or {}).get("figures") or {}
    lines = ["| figure | value | unit | goal | met | what |", "|---|---:|---|---|---|---|"]
    if earlier:
        lines = [
            "| figure | value | before | unit | goal | met | what |",
            "|---|---:|---:|---|---|---|---|",
        ]
    for name, entry in doc["figures"].items():
        what = GOAL_BY_NAME[name].what if name in GOAL_BY_NAME else ""
        if entry.get("note"):
            what += f" ({entry['note']})"
        mark = "yes" if entry["met"] else "**no**"
        value = _shown(entry["value"])
        if earlier:
            value += f" | {_shown((earlier.get(name) or {}).get('value'))}"
        lines.append(
            f"| `{name}` | {value} | {entry['unit']} | "
            f"{entry['goal'].replace('<=', '≤').replace('>=', '≥')} | {mark} | {what} |"
        )
    return lines


CPU_COLUMNS = ("kube-apiserver", "etcd", "operator")


def cpu_section(budgets: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Where the CPU went in the CPU-bound parts, and the throughput that bounds."""
    if not budgets:
        return []
    lines = [
        "## Where the CPU went",
        "",
        "CPU per Execution (per pod, for bare pods) while each part measured, by process "
        "(the rest: scheduler, controller-manager, kubelet, containerd and the pods' own "
        "processes, the benchmark's client and simulated kubelet). "
        "`bound`: Executions/s the machine could finish at this cost; "
        "`bound without operator`: the same if the operator cost nothing.",
        "",
        "| part | machine busy | CPU ms / Execution | "
        + " | ".join(CPU_COLUMNS)
        + " | rest | bound /s | bound without operator /s |",
        "|---|---:|---:|" + "---:|" * (len(CPU_COLUMNS) + 3),
    ]
    for part, spent in budgets.items():
        by_process = spent["cpuMsPerExecution"]
        total = spent["machineCpuMsPerExecution"]
        shown = [by_process.get(name, 0.0) for name in CPU_COLUMNS]
        busy = spent.get("machineBusyFraction")
        lines.append(
            f"| {part} | {_shown(None if busy is None else 100 * busy)}% | {_shown(total)} | "
            + " | ".join(_shown(ms) for ms in shown)
            + f" | {_shown(total - sum(shown))} | {_shown(spent['boundExecutionsPerSecond'])}"
            f" | {_shown(spent['boundWithoutOperatorExecutionsPerSecond'])} |"
        )
    for part, spent in budgets.items():
        if stages := spent.get("stages"):
            medians = stages["medianSeconds"]
            lines += [
                "",
                f"{part}: each pod's median seconds from created to scheduled "
                f"{_shown(medians.get('createdToScheduled'))}, to running "
                f"{_shown(medians.get('scheduledToRunning'))}, to terminal "
                f"{_shown(medians.get('runningToTerminal'))}; "
                f"{stages['podsTurnedAwayByScheduler']} pods first turned away by the scheduler.",
            ]
        if bounds := spent.get("latencyBoundsMs"):
            lines += [
                "",
                f"{part}: its arrivals' latency estimated with the machine taken as one "
                "first-in-first-out queue at the bound (no round trip counted): p50/p99 "
                f"{_shown(bounds.get('atThisCostP50'))}/{_shown(bounds.get('atThisCostP99'))} ms"
                " at this cost, "
                f"{_shown(bounds.get('withoutOperatorP50'))}/"
                f"{_shown(bounds.get('withoutOperatorP99'))} ms with an operator that cost "
                "nothing.",
            ]
    return [*lines, ""]


def markdown(
    doc: Mapping[str, Any],
    counts: Mapping[str, Any],
    plots: Sequence[str],
    before: Mapping[str, Any] | None = None,
) -> str:
    machine, run = doc["machine"], doc.get("run") or {}
    met = sum(1 for entry in doc["figures"].values() if entry["met"])
    lines = [
        "# Benchmarks",
        "",
        f"{machine['date']} — {run.get('mode', '?')} run at commit {run.get('commit', '?')}, "
        f"Python {machine['python']}, Linux {machine['kernel']}, {machine['cpus']} CPUs. "
        f"{met} of {len(doc['figures'])} goals met.",
        "",
        *table(doc, before),
        "",
        *(
            ["`before`: the first measurement, before tuning ([before.md](before.md)).", ""]
            if before
            else []
        ),
        "Counts in this run: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()) + ".",
        "",
        "Every figure and its reference (bare `python3 -c`, bare pods, the seed's wrapper) "
        "come from the same run on the same machine. The machine has 2 cores shared with "
        "other work (builds, tests), which can disturb any figure; compare runs, not "
        "single numbers.",
        "",
    ]
    lines += cpu_section(doc.get("cpu") or {})
    if plots:
        lines += ["## Plots", ""] + [f"![{name}]({name})" for name in plots] + [""]
    return "\n".join(lines)
