"""PNG plots of a run (matplotlib, no display): each returns its file name, or None."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

Results = Mapping[str, Mapping[str, Any]]


def _cdf(ax: Any, samples: Sequence[float], label: str) -> None:
    ordered = sorted(samples)
    count = len(ordered)
    ax.step(ordered, [(i + 1) / count for i in range(count)], where="post", label=label)


def _save(fig: Any, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path.name


def burst_cdf(results: Results, out: Path) -> str | None:
    burst = results.get("burst") or {}
    if "latenciesMs" not in burst:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.5))
    _cdf(ax, burst["latenciesMs"], f"{burst['executions']} Executions at once")
    ax.axvline(30, color="green", linestyle=":", label="p50 goal 30 ms")
    ax.axvline(150, color="orange", linestyle=":", label="p99 goal 150 ms")
    ax.set(xlabel="Execution created → its pod created (ms)", ylabel="fraction", title="Burst")
    ax.legend(loc="lower right")
    return _save(fig, out / "burst-create-to-pod-cdf.png")


def e2e_cdf(results: Results, out: Path) -> str | None:
    startup = results.get("podStartup") or {}
    if "execution" not in startup:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.5))
    _cdf(ax, startup["bare"]["samplesMs"], "bare pod, python3 -c")
    _cdf(ax, startup["runner"]["samplesMs"], "runner pod (made by hand)")
    _cdf(ax, startup["execution"]["samplesMs"], "hello Execution, apply → Succeeded")
    ax.set(xlabel="create → Succeeded (ms)", ylabel="fraction", title="End to end, sequential")
    ax.legend(loc="lower right")
    return _save(fig, out / "e2e-cdf.png")


def _per_second(ax: Any, times: Sequence[float], label: str) -> None:
    if not times:
        return
    buckets = [0] * (int(max(times)) + 1)
    for moment in times:
        buckets[int(moment)] += 1
    ax.plot(range(len(buckets)), buckets, drawstyle="steps-post", label=label)


def throughput(results: Results, out: Path) -> str | None:
    control = results.get("controlPlane") or {}
    node = results.get("nodeBurst") or {}
    if "rounds" not in control and "executions" not in node:
        return None
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6, 5.5))
    for index, round_ in enumerate(control.get("rounds") or []):
        _per_second(top, round_["terminalAfterSeconds"], f"round {index + 1}")
    top.axhline(50, color="green", linestyle=":", label="goal 50/s")
    top.set(
        xlabel="seconds since the first create",
        ylabel="Executions terminal / s",
        title="Control plane (kubelet simulated)",
    )
    top.legend(loc="upper right")
    for key, label in (("barePods", "bare pods"), ("executions", "hello Executions")):
        if key in node:
            done = node[key]["doneAfterSeconds"]
            bottom.step(done, range(1, len(done) + 1), where="post", label=label)
    bottom.set(xlabel="seconds since the first create", ylabel="finished", title="Real node burst")
    if node:
        bottom.legend(loc="lower right")
    return _save(fig, out / "throughput.png")


def collector_rss(results: Results, out: Path) -> str | None:
    collector = results.get("collectorThroughput") or {}
    if "backendDown" not in collector:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for key, label in (("burst", "healthy backend"), ("backendDown", "backend down")):
        samples = collector[key].get("rssSamples") or []
        ax.plot([s[0] for s in samples], [s[2] for s in samples], label=label)
    ax.axhline(64, color="orange", linestyle=":", label="goal 64 MiB (peak)")
    ax.set(xlabel="lines added", ylabel="collector process RSS (MiB)", title="Log collector RSS")
    ax.legend(loc="lower right")
    return _save(fig, out / "collector-rss.png")


PLOTS: tuple[Callable[[Results, Path], str | None], ...] = (
    burst_cdf,
    e2e_cdf,
    throughput,
    collector_rss,
)


def draw_all(results: Results, out: Path) -> list[str]:
    names = [plot(results, out) for plot in PLOTS]
    return [name for name in names if name]
