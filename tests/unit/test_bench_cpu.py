"""The benchmarks' CPU budget: costs per Execution, the bounds they imply, their table."""

from __future__ import annotations

import pytest

from bench import burst, collect, cpu, figures


def test_the_budget_divides_by_the_executions_and_bounds_the_throughput_by_the_cores() -> None:
    spent = cpu.budget(
        {"kube-apiserver": 2.0, cpu.OPERATOR: 1.0, "etcd": 0.5},
        busy=4.0,
        total=5.0,
        seconds=2.5,
        count=100,
        cores=2,
    )
    assert spent["cpuMsPerExecution"] == {"kube-apiserver": 20.0, "operator": 10.0, "etcd": 5.0}
    assert spent["machineCpuMsPerExecution"] == 40.0
    assert spent["machineBusyFraction"] == 0.8
    # 2 cores, 40 ms each Execution: 50/s; without the operator's 10 ms: 2,000/30 ≈ 66.7/s.
    assert spent["boundExecutionsPerSecond"] == 50.0
    assert spent["boundWithoutOperatorExecutionsPerSecond"] == pytest.approx(66.7)


def test_a_budget_without_the_operator_measured_bounds_both_the_same() -> None:
    spent = cpu.budget({"etcd": 1.0}, 2.0, 2.0, seconds=1.0, count=10, cores=1)
    assert spent["boundExecutionsPerSecond"] == spent["boundWithoutOperatorExecutionsPerSecond"]


def test_an_idle_window_has_no_bound() -> None:
    spent = cpu.budget({}, 0.0, 0.0, seconds=0.0, count=10, cores=2)
    assert spent["boundExecutionsPerSecond"] is None
    assert spent["machineBusyFraction"] is None


def test_the_budgets_come_from_the_burst_and_the_first_control_plane_round() -> None:
    first, second = {"cpu": {"seconds": 1}}, {"cpu": {"seconds": 2}}
    results = {"burst": {"cpu": {"seconds": 3}}, "controlPlane": {"rounds": [first, second]}}
    assert collect.cpu_budgets(results) == {"burst": {"seconds": 3}, "controlPlane": {"seconds": 1}}
    assert collect.cpu_budgets({"burst": {"error": "x"}}) == {}


def test_each_kind_of_the_node_burst_has_its_budget_with_its_pods_stages() -> None:
    stages = {"medianSeconds": {"createdToScheduled": 1.0}, "podsTurnedAwayByScheduler": 3}
    node = {
        "barePods": {"cpu": {"seconds": 4}, "stages": stages},
        "executions": {"cpu": {"seconds": 5}, "stages": stages},
    }
    budgets = collect.cpu_budgets({"nodeBurst": node})
    assert budgets == {
        "nodeBurst bare pods": {"seconds": 4, "stages": stages},
        "nodeBurst Executions": {"seconds": 5, "stages": stages},
    }


def test_the_markdown_shows_each_budget_with_its_bounds() -> None:
    spent = cpu.budget(
        {"kube-apiserver": 2.0, cpu.OPERATOR: 1.0, "etcd": 0.5, "kube-scheduler": 0.5},
        busy=4.0,
        total=4.0,
        seconds=2.0,
        count=100,
        cores=2,
    )
    lines = figures.cpu_section({"controlPlane": spent})
    row = next(line for line in lines if line.startswith("| controlPlane"))
    # busy, total, apiserver, etcd, operator, the rest, bound, bound without the operator
    assert row == "| controlPlane | 100% | 40 | 20 | 5 | 10 | 5 | 50 | 66.7 |"
    assert figures.cpu_section({}) == []


def test_a_queue_serves_arrivals_in_order_at_its_rate() -> None:
    # 10 per second: 100 ms each. Two arrive at once, a third after the queue emptied.
    latencies = cpu.queue_latencies([0.0, 0.0, 1.0], rate=10)
    assert latencies == pytest.approx([0.1, 0.2, 0.1])


def test_arrivals_faster_than_the_rate_wait_longer_and_longer() -> None:
    latencies = cpu.queue_latencies([i * 0.005 for i in range(100)], rate=100)  # 200/s in
    assert latencies == sorted(latencies)
    # The 100th waits for 99 before it (0.99 s of work) minus its 0.495 s later arrival.
    assert latencies[-1] == pytest.approx(1.0 - 0.495)


def test_the_burst_bounds_its_latency_at_both_rates_and_the_markdown_shows_them() -> None:
    spent = cpu.budget({cpu.OPERATOR: 1.0}, 2.0, 2.0, seconds=1.0, count=10, cores=1)
    bounds = burst.latency_bounds([0.0] * 10, spent)
    # 5/s at this cost: the 5th of 10 simultaneous arrivals is done after 1 s.
    assert bounds["atThisCostP50"] == pytest.approx(1000.0)
    assert bounds["withoutOperatorP50"] == pytest.approx(500.0)  # 10/s without the operator
    spent["latencyBoundsMs"] = bounds
    text = "\n".join(figures.cpu_section({"burst": spent}))
    assert "p50/p99 1,000/2,000 ms at this cost, 500/1,000 ms" in text


def test_the_markdown_shows_where_a_node_burst_pods_time_went() -> None:
    spent = cpu.budget({"kubelet": 1.0}, 2.0, 4.0, seconds=2.0, count=10, cores=2)
    spent["stages"] = {
        "medianSeconds": {
            "createdToScheduled": 7.5,
            "scheduledToRunning": 3.25,
            "runningToTerminal": None,
        },
        "podsTurnedAwayByScheduler": 30,
    }
    text = "\n".join(figures.cpu_section({"nodeBurst bare pods": spent}))
    assert "| nodeBurst bare pods | 50% |" in text
    assert "created to scheduled 7.5, to running 3.25, to terminal —; 30 pods first" in text
