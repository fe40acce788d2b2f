"""From the benchmarks' detailed results to the headline figures (pure).

Each function reads one benchmark's result dict and returns {figure name:
value}; a benchmark that failed or was skipped yields notes instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bench.figures import growth_percent, ratio

MIB = 1024 * 1024
Values = dict[str, float | None]


def runner(result: Mapping[str, Any]) -> Values:
    return {
        "runnerOverheadMs": result["overheadMs"]["median"],
        "runnerVsSeedRatio": result["runnerVsSeedRatio"],
    }


def collector(result: Mapping[str, Any]) -> Values:
    burst = result["burst"]
    return {
        "collectorLinesPerSecond": ratio(burst["delivered"], burst["totalSeconds"]),
        "collectorHealthyBurstDeliveredFraction": result["runnerBurst"]["deliveredFraction"],
        "collectorBackendDownPeakRssMiB": result["backendDown"]["peakRssBytes"] / MIB,
    }


def pod_startup(result: Mapping[str, Any]) -> Values:
    return {
        "e2eVsBarePodRatio": ratio(result["execution"]["medianMs"], result["bare"]["medianMs"]),
        "statusLagP50Ms": result["statusLag"]["medianMs"],
    }


def burst(result: Mapping[str, Any]) -> Values:
    return {"burstCreateToPodP50Ms": result["p50Ms"], "burstCreateToPodP99Ms": result["p99Ms"]}


def node_burst(result: Mapping[str, Any]) -> Values:
    return {
        "nodeBurstVsBarePodsRatio": ratio(
            result["executions"]["perSecond"], result["barePods"]["perSecond"]
        )
    }


def _sampled_rounds(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Rounds whose operator RSS was sampled (a round where nothing finished has none)."""
    return [r for r in result["rounds"] if "operatorRssMiB" in r]


def control_plane(result: Mapping[str, Any]) -> Values:
    rounds = result["rounds"]
    sampled = _sampled_rounds(result)
    values: Values = {"controlPlaneExecutionsPerSecond": rounds[0]["executionsPerSecond"]}
    if len(sampled) > 1:
        values["operatorRssGrowthPercent"] = growth_percent(
            sampled[0]["operatorRssMiB"], sampled[-1]["operatorRssMiB"]
        )
    return values


def operator_scale(result: Mapping[str, Any]) -> Values:
    return {"operatorRssMiB": result["operatorRssMiB"]}


def control_plane_notes(result: Mapping[str, Any]) -> dict[str, str]:
    rounds = result["rounds"]
    notes = {}
    first = rounds[0]
    if not (first["complete"] and set(first["phases"]) <= {"Succeeded"}):
        notes["controlPlaneExecutionsPerSecond"] = (
            f"{first['terminal']} of {first['executions']} terminal (phases {first['phases']}), "
            f"fake kubelet errors {first['kubelet']['errorCount']}"
        )
    sampled = _sampled_rounds(result)
    if len(sampled) < len(rounds):
        broken = rounds[len(sampled)]
        notes["operatorRssGrowthPercent"] = (
            f"round {len(sampled) + 1} of {len(rounds)}: {broken['terminal']} of "
            f"{broken['executions']} terminal, no RSS sample; "
            + (f"growth over rounds 1-{len(sampled)}" if len(sampled) > 1 else "not measured")
        )
    return notes


NODE_BURST_KINDS = (("barePods", "nodeBurst bare pods"), ("executions", "nodeBurst Executions"))


def cpu_budgets(results: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Where the CPU went: burst, control plane round 1, each kind of the node burst."""
    budgets = {}
    if "cpu" in (burst := results.get("burst") or {}):
        budgets["burst"] = burst["cpu"]
    rounds = (results.get("controlPlane") or {}).get("rounds") or []
    if rounds and "cpu" in rounds[0]:
        budgets["controlPlane"] = rounds[0]["cpu"]
    node = results.get("nodeBurst") or {}
    for kind, part in NODE_BURST_KINDS:
        if "cpu" in (drained := node.get(kind) or {}):
            budgets[part] = {**drained["cpu"], "stages": drained.get("stages")}
    return budgets


def scale_notes(result: Mapping[str, Any]) -> dict[str, str]:
    if result["complete"]:
        return {}
    return {"operatorRssMiB": f"only {result['podsMade']} of {result['executions']} pods made"}


@dataclass(frozen=True)
class Part:
    """One benchmark: its figures, and notes about how complete its run was."""

    name: str
    figures: tuple[str, ...]
    values: Callable[[Mapping[str, Any]], Values]
    notes: Callable[[Mapping[str, Any]], dict[str, str]] = lambda _: {}


PARTS: tuple[Part, ...] = (
    Part("runnerOverhead", ("runnerOverheadMs", "runnerVsSeedRatio"), runner),
    Part(
        "collectorThroughput",
        (
            "collectorLinesPerSecond",
            "collectorHealthyBurstDeliveredFraction",
            "collectorBackendDownPeakRssMiB",
        ),
        collector,
    ),
    Part("podStartup", ("e2eVsBarePodRatio", "statusLagP50Ms"), pod_startup),
    Part("burst", ("burstCreateToPodP50Ms", "burstCreateToPodP99Ms"), burst),
    Part("nodeBurst", ("nodeBurstVsBarePodsRatio",), node_burst),
    Part(
        "controlPlane",
        ("controlPlaneExecutionsPerSecond", "operatorRssGrowthPercent"),
        control_plane,
        control_plane_notes,
    ),
    Part("operatorScale", ("operatorRssMiB",), operator_scale, scale_notes),
)


def headline(results: Mapping[str, Mapping[str, Any]]) -> tuple[Values, dict[str, str]]:
    """Figure values and notes from every part that produced a result."""
    values: Values = {}
    notes: dict[str, str] = {}
    for part in PARTS:
        result = results.get(part.name)
        if result is None:
            continue
        problem = result.get("error") or result.get("skipped")
        if problem:
            notes.update(dict.fromkeys(part.figures, f"not measured: {problem}"))
            continue
        values.update(part.values(result))
        notes.update(part.notes(result))
    return values, notes
