"""The node burst's record of each pod's stages, fed watch events as the API sends them."""

from __future__ import annotations

from typing import Any

from bench.node_burst import PodStages, median_drains


def _pod(name: str, node: str | None = None, phase: str = "Pending", **status: Any) -> Any:
    return {
        "metadata": {"name": name},
        "spec": {"nodeName": node},
        "status": {"phase": phase, **status},
    }


UNSCHEDULABLE = {"conditions": [{"type": "PodScheduled", "status": "False"}]}


def test_each_stage_counts_from_the_first_event_that_showed_it() -> None:
    stages = PodStages()
    stages.on_event(("ADDED", _pod("a"), 0.0))
    stages.on_event(("MODIFIED", _pod("a", **UNSCHEDULABLE), 1.0))
    stages.on_event(("MODIFIED", _pod("a", "node"), 4.0))
    stages.on_event(("MODIFIED", _pod("a", "node", "Running"), 6.0))
    stages.on_event(("MODIFIED", _pod("a", "node", "Running"), 6.5))  # a later event moves nothing
    stages.on_event(("MODIFIED", _pod("a", "node", "Succeeded"), 7.0))
    stages.on_event(("ADDED", _pod("b", "node"), 1.0))
    stages.on_event(("MODIFIED", _pod("b", "node", "Succeeded"), 3.0))  # never seen running
    summary = stages.summary()
    assert summary["medianSeconds"] == {
        "createdToScheduled": 2.0,  # a: 4 s, b: at once
        "scheduledToRunning": 2.0,
        "runningToTerminal": 1.0,
    }
    assert summary["podsTurnedAwayByScheduler"] == 1


def test_no_pods_have_no_medians() -> None:
    assert PodStages().summary()["medianSeconds"]["createdToScheduled"] is None


def test_each_kind_reports_its_median_drain_and_every_rounds_time() -> None:
    bare = [{"seconds": s, "perSecond": 50 / s} for s in (20.0, 16.0, 18.0)]
    executions = [{"seconds": s, "perSecond": 50 / s} for s in (30.0, 17.0, 19.0)]
    result = median_drains({"barePods": bare, "executions": executions})
    assert result["barePods"] is bare[2]
    assert result["executions"] is executions[2]  # not the 30 s outlier
    assert [r["executions"]["seconds"] for r in result["rounds"]] == [30.0, 17.0, 19.0]
