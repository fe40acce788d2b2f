"""The benchmarks' pure parts: goals, percentiles, figures from results, latest.json/md."""

from __future__ import annotations

import math

import pytest

from bench import collect, figures


def test_every_goal_of_the_issue_is_listed_with_its_unit_and_goal() -> None:
    assert {g.name: (g.unit, g.goal) for g in figures.GOALS} == {
        "runnerOverheadMs": ("ms", "<= 20"),
        "runnerVsSeedRatio": ("ratio", "<= 1.0"),
        "e2eVsBarePodRatio": ("ratio", "<= 1.2"),
        "statusLagP50Ms": ("ms", "<= 50"),
        "burstCreateToPodP50Ms": ("ms", "<= 30"),
        "burstCreateToPodP99Ms": ("ms", "<= 150"),
        "controlPlaneExecutionsPerSecond": ("Executions/s", ">= 50"),
        "nodeBurstVsBarePodsRatio": ("ratio", ">= 0.9"),
        "collectorLinesPerSecond": ("lines/s", ">= 100000"),
        "collectorHealthyBurstDeliveredFraction": ("fraction", "= 1.0"),
        "collectorBackendDownPeakRssMiB": ("MiB", "<= 64"),
        "operatorRssMiB": ("MiB", "<= 200"),
        "operatorRssGrowthPercent": ("%", "<= 10"),
    }


@pytest.mark.parametrize(
    ("name", "value", "met"),
    [
        ("runnerOverheadMs", 20.0, True),
        ("runnerOverheadMs", 20.1, False),
        ("controlPlaneExecutionsPerSecond", 50.0, True),
        ("controlPlaneExecutionsPerSecond", 49.9, False),
        ("collectorHealthyBurstDeliveredFraction", 1.0, True),
        ("collectorHealthyBurstDeliveredFraction", 0.99999, False),
        ("operatorRssMiB", None, False),
        ("operatorRssMiB", math.nan, False),
    ],
)
def test_a_value_meets_its_goal_only_on_the_right_side(
    name: str, value: float | None, met: bool
) -> None:
    assert figures.figure(name, value)["met"] is met


def test_nearest_rank_percentiles() -> None:
    samples = list(range(1, 201))  # 1..200
    assert figures.percentile(samples, 0.5) == 100
    assert figures.percentile(samples, 0.99) == 198
    assert figures.percentile([7.0], 0.99) == 7.0
    with pytest.raises(ValueError, match="no samples"):
        figures.percentile([], 0.5)


def test_growth_and_ratio() -> None:
    assert figures.growth_percent(100.0, 110.0) == pytest.approx(10.0)
    assert math.isnan(figures.ratio(1.0, 0.0))


RESULTS = {
    "runnerOverhead": {"overheadMs": {"median": 48.5}, "runnerVsSeedRatio": 2.5},
    "collectorThroughput": {
        "burst": {"delivered": 150_000, "totalSeconds": 2.0},
        "runnerBurst": {"deliveredFraction": 0.75},
        "backendDown": {"peakRssBytes": 80 * 1024 * 1024},
    },
    "podStartup": {
        "execution": {"medianMs": 3000},
        "bare": {"medianMs": 1200},
        "statusLag": {"medianMs": 40},
    },
    "burst": {"p50Ms": 1000.0, "p99Ms": 2000.0},
    "nodeBurst": {"executions": {"perSecond": 1.0}, "barePods": {"perSecond": 2.0}},
    "controlPlane": {
        "rounds": [
            {
                "executionsPerSecond": 10.0,
                "operatorRssMiB": 100.0,
                "complete": True,
                "phases": {"Succeeded": 5},
            },
            {"executionsPerSecond": 11.0, "operatorRssMiB": 104.0},
            {"executionsPerSecond": 12.0, "operatorRssMiB": 105.0},
        ]
    },
    "operatorScale": {"error": "ApiException: boom"},
}


def test_headline_figures_from_the_detailed_results() -> None:
    values, notes = collect.headline(RESULTS)
    assert values == {
        "runnerOverheadMs": 48.5,
        "runnerVsSeedRatio": 2.5,
        "collectorLinesPerSecond": 75_000.0,
        "collectorHealthyBurstDeliveredFraction": 0.75,
        "collectorBackendDownPeakRssMiB": 80.0,
        "e2eVsBarePodRatio": 2.5,
        "statusLagP50Ms": 40,
        "burstCreateToPodP50Ms": 1000.0,
        "burstCreateToPodP99Ms": 2000.0,
        "nodeBurstVsBarePodsRatio": 0.5,
        "controlPlaneExecutionsPerSecond": 10.0,
        "operatorRssGrowthPercent": pytest.approx(5.0),
    }
    assert notes == {"operatorRssMiB": "not measured: ApiException: boom"}


def test_a_control_plane_round_where_nothing_finished_is_a_note_not_a_crash() -> None:
    broken = {"executions": 5, "terminal": 0, "complete": False, "phases": {}}
    rounds = [*RESULTS["controlPlane"]["rounds"][:2], broken]
    values, notes = collect.headline({"controlPlane": {"rounds": rounds}})
    assert values["operatorRssGrowthPercent"] == pytest.approx(4.0)
    assert notes == {
        "operatorRssGrowthPercent": "round 3 of 3: 0 of 5 terminal, no RSS sample; "
        "growth over rounds 1-2"
    }


def test_latest_json_has_every_figure_and_latest_md_shows_them() -> None:
    values, notes = collect.headline(RESULTS)
    machine = {"cpus": 2, "python": "3.11.2", "kernel": "6.1", "date": "2026-01-01T00:00:00Z"}
    doc = figures.document(machine, values, notes, {"mode": "quick", "commit": "abc"})
    assert doc["machine"] == machine
    assert list(doc["figures"]) == [g.name for g in figures.GOALS]
    assert doc["figures"]["runnerOverheadMs"] == {
        "value": 48.5,
        "unit": "ms",
        "goal": "<= 20",
        "met": False,
    }
    assert doc["figures"]["statusLagP50Ms"]["met"] is True
    assert doc["figures"]["operatorRssMiB"]["value"] is None
    assert doc["figures"]["operatorRssMiB"]["note"] == "not measured: ApiException: boom"
    text = figures.markdown(doc, {"burst Executions": 200}, ["burst.png"])
    assert "| `runnerOverheadMs` | 48.5 | ms | ≤ 20 | **no** |" in text
    assert "| `statusLagP50Ms` | 40 | ms | ≤ 50 | yes |" in text
    assert "| `collectorLinesPerSecond` | 75,000 | lines/s | ≥ 100000 | **no** |" in text
    assert "2 of 13 goals met" in text
    assert "burst Executions 200" in text
    assert "![burst.png](burst.png)" in text


def test_profile_counts_a_function_once_per_sample_even_when_recursive() -> None:
    from bench.profile import top_frames  # noqa: PLC0415 - imports the cluster helpers

    collapsed = "main (a.py:1);f (a.py:2);f (a.py:2) 3\nmain (a.py:1);g (a.py:5) 1\n"
    assert top_frames(collapsed) == [("main", 4), ("f", 3), ("g", 1)]


def test_latest_md_shows_the_before_value_next_to_each_figure() -> None:
    machine = {"cpus": 2, "python": "3.11.2", "kernel": "6.1", "date": "2026-01-01T00:00:00Z"}
    before = figures.document(machine, {"runnerOverheadMs": 50.0})
    now = figures.document(machine, {"runnerOverheadMs": 18.25})
    text = figures.markdown(now, {}, [], before)
    assert "| figure | value | before | unit |" in text
    assert "| `runnerOverheadMs` | 18.25 | 50 | ms | ≤ 20 | yes |" in text
    assert "| `operatorRssMiB` | — | — | MiB |" in text
