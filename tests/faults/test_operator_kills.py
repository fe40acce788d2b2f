"""Scenarios 1 and 10: the operator SIGKILLed at chosen moments, and a burst with restarts."""

from __future__ import annotations

import time
from collections import Counter
from functools import partial
from typing import Any

import pytest
from execution_operator.settings import Settings
from kubernetes import client

from tests.faults import objects
from tests.faults.conftest import count
from tests.faults.scene import Scene
from tests.support.operator_process import OperatorProcess
from tests.support.waiting import poll_until

pytestmark = [pytest.mark.faults, pytest.mark.cluster]

# Short but not instant: kills land while pods run and while results are read.
CODE = "import time\ntime.sleep(data['s'])\nresult = {'i': data['i']}\n"
MOMENTS = ("attemptRecorded", "podCreated", "resultRead")
# Every other Execution's payload is too large for the pod's annotations: a ConfigMap.
PADDING = "#" * Settings().inline_payload_max_bytes + "\n"


def _moment_seen(
    moment: str, custom: client.CustomObjectsApi, core: client.CoreV1Api, namespace: str
) -> bool:
    """True while some Execution is at `moment`: the state a kill should catch."""
    items = objects.executions(custom, namespace)
    pods, _ = objects.owned(core, namespace)
    pod_uids = {p.metadata.labels[objects.UID_LABEL] for p in pods}
    finished = {p.metadata.labels[objects.UID_LABEL] for p in pods if p.status.phase == "Succeeded"}
    for item in items:
        status, uid = item.get("status") or {}, item["metadata"]["uid"]
        if status.get("phase") in objects.TERMINAL:
            continue
        if moment == "attemptRecorded" and status.get("attempts") and uid not in pod_uids:
            return True
        if moment == "podCreated" and uid in pod_uids and status.get("phase") == "Pending":
            return True
        if moment == "resultRead" and uid in finished:
            return True
    return False


def _kill_and_restart(operator: OperatorProcess) -> None:
    operator.kill()
    operator.start()


@pytest.mark.scenario("1-operator-sigkill")
@pytest.mark.timeout(900)
def test_operator_killed_at_chosen_moments(
    operator: OperatorProcess, scene: Scene, figures: dict[str, Any]
) -> None:
    total, kills = 100, 10
    per_wave = total // kills
    caught: list[str] = []
    for wave in range(kills):
        for i in range(wave * per_wave, (wave + 1) * per_wave):
            code = PADDING + CODE if i % 2 else CODE
            scene.apply(f"k-{i}", {"code": code, "input": {"i": i, "s": (i % 4) * 0.5}})
        moment = MOMENTS[wave % len(MOMENTS)]
        at_moment = partial(_moment_seen, moment, scene.custom, scene.core, scene.namespace)
        if poll_until(at_moment, 60, 0.02):
            caught.append(moment)
        _kill_and_restart(operator)
    last_restart = time.monotonic()

    items, counts = scene.settled(total, timeout=120)
    drained = time.monotonic() - last_restart
    figures.update(
        executions=total,
        kills=kills,
        killedAt=caught,
        terminalAfterLastRestartS=round(drained, 1),
        **counts,
    )
    wrong = {
        e["metadata"]["name"]: e["status"]
        for e in items
        if (e["status"].get("phase"), e["status"].get("result"), e["status"].get("attempts"))
        != ("Succeeded", {"i": int(e["metadata"]["name"][2:])}, 1)
    }
    assert not wrong, f"not succeeded exactly once with their own result: {wrong}"
    assert counts["pods"] == total, counts  # none ran twice
    assert counts["configMaps"] == total // 2, counts  # only the large payloads made one


@pytest.mark.scenario("10-burst-with-restarts")
@pytest.mark.timeout(1800)
def test_burst_with_two_operator_restarts(
    operator: OperatorProcess, scene: Scene, figures: dict[str, Any]
) -> None:
    # Real tiny pods on the one real node (no simulated kubelet): FAULTS_FULL=1 for 1,000.
    total = count(1000, 150)
    started = time.monotonic()
    restarts_at = (total // 3, 2 * total // 3)
    # One node starts about 2 pods/s: the last of 1,000 starts long after the default
    # start deadline (300 s), which would measure the node, not the restarts.
    deadline = max(300, int(total * 1.5))
    for i in range(total):
        scene.apply(
            f"b-{i}", {"code": "result = data", "input": i, "startDeadlineSeconds": deadline}
        )
        if i in restarts_at:
            _kill_and_restart(operator)
    created = time.monotonic()
    items, counts = scene.settled(total, timeout=deadline)
    drained = time.monotonic() - started
    lost = [
        e["metadata"]["name"]
        for e in items
        if e["status"].get("result") != int(e["metadata"]["name"][2:])
    ]
    figures.update(
        executions=total,
        restarts=2,
        podsOn="the real node (tiny real pods)",
        createSeconds=round(created - started, 1),
        drainSeconds=round(drained, 1),
        podsPerSecond=round(counts["pods"] / drained, 2),
        lost=len(lost),
        duplicated=counts["attempts"] - total,  # one pod per attempt is asserted by settled()
        outcomes=Counter(f"{e['status'].get('phase')}/{e['status'].get('reason')}" for e in items),
        **counts,
    )
    assert not lost, f"{len(lost)} without their result: {lost[:10]}"
    assert counts["pods"] == total, counts
