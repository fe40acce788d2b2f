"""The Execution lifecycle on the real cluster: cancel, retries, restarts, reruns, TTL.

Each test drives a real operator process and real runner pods, and waits for
conditions with deadlines (never a bare sleep as a wait).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from execution_operator import models
from execution_operator.settings import Settings
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from tests.support import kube
from tests.support.operator_process import OperatorProcess

GROUP, VERSION, PLURAL = models.GROUP, models.VERSION, models.PLURAL
ATTEMPT_LABEL = "execution-operator.io/attempt"
# How the API server writes times (the runner adds fractions of a second).
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

HELLO = 'result = {"hello": "world"}'
SLEEP_60 = "import time\ntime.sleep(60)\nresult = 'too late'"
DOUBLE_AFTER_4S = "import time\ntime.sleep(4)\nresult = {'double': data['x'] * 2}"

Apply = Callable[..., dict[str, Any]]
Get = Callable[[str], dict[str, Any]]
Wait = Callable[..., dict[str, Any]]
PodsOf = Callable[[str], list[Any]]
TERMINAL = ("Succeeded", "Failed", "Cancelled")


def _patch_spec(
    custom: client.CustomObjectsApi, namespace: str, name: str, spec: dict[str, Any]
) -> dict[str, Any]:
    body: dict[str, Any] = custom.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, name, {"spec": spec}
    )
    return body


def _pod_gone_or_terminated(core: client.CoreV1Api, namespace: str, name: str) -> bool:
    try:
        pod = core.read_namespaced_pod(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return True
        raise
    if pod.status.phase in ("Succeeded", "Failed"):
        return True
    statuses = pod.status.container_statuses or []
    return bool(statuses) and all(s.state.terminated is not None for s in statuses)


def _attempt_of(pod: Any) -> int:
    return int(pod.metadata.labels[ATTEMPT_LABEL])


def _wait_terminal_watching_times(
    get_execution: Get, name: str, timeout: float
) -> tuple[dict[str, Any], set[str]]:
    """Wait for a terminal phase; also return every status timestamp seen on the way."""
    seen: set[str] = set()

    def terminal() -> dict[str, Any] | None:
        status: dict[str, Any] = get_execution(name).get("status") or {}
        seen.update(status[key] for key in ("startTime", "completionTime") if status.get(key))
        return status if status.get("phase") in ("Succeeded", "Failed", "Cancelled") else None

    return kube.wait_until(terminal, timeout, f"Execution {name} to finish"), seen


@pytest.fixture
def restart_operator(operator: OperatorProcess) -> Iterator[Callable[[], None]]:
    """Starts the killed operator again; makes sure it runs after the test either way."""
    yield operator.start
    if operator.process is None or operator.process.poll() is not None:
        operator.start()


# --- 1. cancel -----------------------------------------------------------------------


@pytest.mark.slow
def test_cancel_stops_a_running_execution(
    apply_execution: Apply,
    wait_phase: Wait,
    get_execution: Get,
    custom: client.CustomObjectsApi,
    core: client.CoreV1Api,
    namespace: str,
) -> None:
    apply_execution("sleepy", {"code": SLEEP_60, "timeoutSeconds": 120})
    running = wait_phase("sleepy", "Running", timeout=30)
    pod_name = running["podName"]

    started = time.monotonic()
    _patch_spec(custom, namespace, "sleepy", {"cancel": True})
    status, times = _wait_terminal_watching_times(get_execution, "sleepy", timeout=15)
    elapsed = time.monotonic() - started

    assert (status["phase"], status["reason"]) == ("Cancelled", "Cancelled"), status
    assert elapsed < 10, f"cancel took {elapsed:.1f}s"
    # One format, as the API server writes it: a status copied from differently
    # formatted pod bodies would flip between spellings and rewrite itself.
    assert times
    assert all(RFC3339_UTC.match(t) for t in times), times
    kube.wait_until(
        lambda: _pod_gone_or_terminated(core, namespace, pod_name),
        15,
        f"pod {pod_name} to stop",
    )


def test_execution_created_cancelled_never_starts_a_pod(
    apply_execution: Apply, wait_phase: Wait, pods_of: PodsOf
) -> None:
    created = apply_execution("never", {"code": HELLO, "cancel": True})
    status = wait_phase("never", timeout=15)

    assert (status["phase"], status["reason"]) == ("Cancelled", "Cancelled"), status
    assert pods_of(created["metadata"]["uid"]) == []


# --- 2. pod deleted mid-run ----------------------------------------------------------


@pytest.mark.slow
def test_pod_deleted_mid_run_fails_without_retries(
    apply_execution: Apply,
    wait_phase: Wait,
    core: client.CoreV1Api,
    namespace: str,
) -> None:
    apply_execution("lost", {"code": SLEEP_60, "timeoutSeconds": 120, "retries": 0})
    running = wait_phase("lost", "Running", timeout=30)

    core.delete_namespaced_pod(running["podName"], namespace)
    status = wait_phase("lost", timeout=20)

    assert (status["phase"], status["reason"], status["code"]) == ("Failed", "PodFailed", 500), (
        status
    )
    assert status["attempts"] == 1


@pytest.mark.slow
def test_pod_deleted_mid_run_is_retried(
    apply_execution: Apply,
    wait_phase: Wait,
    pods_of: PodsOf,
    core: client.CoreV1Api,
    namespace: str,
) -> None:
    created = apply_execution(
        "retried", {"code": DOUBLE_AFTER_4S, "input": {"x": 21}, "retries": 1}
    )
    first = wait_phase("retried", "Running", timeout=30)
    assert first["attempts"] == 1

    core.delete_namespaced_pod(first["podName"], namespace, grace_period_seconds=0)
    status = wait_phase("retried", "Succeeded", "Failed", "Cancelled", timeout=30)
    if status["attempts"] == 1:  # the terminal status of attempt 1 cannot be final
        raise AssertionError(f"attempt 1 ended the Execution: {status}")

    assert (status["phase"], status["reason"], status["code"]) == ("Succeeded", "Completed", 200)
    assert status["attempts"] == 2
    assert status["result"] == {"double": 42}
    assert status["podName"] != first["podName"]
    pods = pods_of(created["metadata"]["uid"])  # attempt 1's pod was deleted outright
    assert [(p.metadata.name, _attempt_of(p)) for p in pods] == [(status["podName"], 2)]


# --- 3. operator killed and restarted ------------------------------------------------


@pytest.mark.slow
def test_operator_killed_right_after_create_leaves_one_pod(
    operator: OperatorProcess,
    restart_operator: Callable[[], None],
    apply_execution: Apply,
    wait_phase: Wait,
    get_execution: Get,
    pods_of: PodsOf,
) -> None:
    # A burst, killed as soon as the operator has written its first status: the
    # Executions are caught at different steps (untouched, attempt recorded, pod
    # created), each of which the restart must complete once.
    names = [f"burst-{i}" for i in range(6)]
    uids = {name: apply_execution(name, {"code": HELLO})["metadata"]["uid"] for name in names}
    kube.wait_until(
        lambda: any(get_execution(name).get("status") for name in names),
        20,
        "the operator to start on the burst",
        interval=0.01,
    )
    operator.kill()
    restart_operator()

    for name, uid in uids.items():
        status = wait_phase(name, timeout=40)
        assert (status["phase"], status["result"]) == ("Succeeded", {"hello": "world"}), status
        assert status["attempts"] == 1
        assert [p.metadata.name for p in pods_of(uid)] == [status["podName"]], name


@pytest.mark.slow
def test_operator_down_while_the_pod_finishes(
    operator: OperatorProcess,
    restart_operator: Callable[[], None],
    apply_execution: Apply,
    wait_phase: Wait,
    pods_of: PodsOf,
    core: client.CoreV1Api,
    namespace: str,
) -> None:
    created = apply_execution("orphaned", {"code": DOUBLE_AFTER_4S, "input": {"x": 5}})
    running = wait_phase("orphaned", "Running", timeout=30)
    operator.kill()

    def pod_finished() -> bool:
        phase = core.read_namespaced_pod(running["podName"], namespace).status.phase
        return phase in ("Succeeded", "Failed")

    kube.wait_until(pod_finished, 20, "the pod to finish while the operator is down")
    restart_operator()

    status = wait_phase("orphaned", "Succeeded", "Failed", "Cancelled", timeout=20)
    assert (status["phase"], status["reason"], status["code"]) == ("Succeeded", "Completed", 200)
    assert status["result"] == {"double": 10}
    assert [p.metadata.name for p in pods_of(created["metadata"]["uid"])] == [running["podName"]]


# --- 4. spec change → new run --------------------------------------------------------


@pytest.mark.slow
def test_spec_change_after_success_starts_a_new_run(
    apply_execution: Apply,
    wait_phase: Wait,
    get_execution: Get,
    pods_of: PodsOf,
    custom: client.CustomObjectsApi,
    namespace: str,
) -> None:
    code = "result = {'double': data['x'] * 2}"
    created = apply_execution("rerun", {"code": code, "input": {"x": 1}})
    uid = created["metadata"]["uid"]
    first = wait_phase("rerun", timeout=30)
    assert (first["phase"], first["result"], first["attempts"]) == ("Succeeded", {"double": 2}, 1)

    generation = _patch_spec(custom, namespace, "rerun", {"input": {"x": 2}})["metadata"][
        "generation"
    ]

    def second_run_done() -> dict[str, Any] | None:
        body = get_execution("rerun")
        status: dict[str, Any] = body.get("status") or {}
        done = status.get("attempts") == 2 and status.get("phase") in ("Succeeded", "Failed")
        return status if done else None

    second = kube.wait_until(second_run_done, 30, "the second run to finish")
    assert (second["phase"], second["result"]) == ("Succeeded", {"double": 4}), second
    assert second["observedGeneration"] == generation
    assert second["podName"] != first["podName"]
    assert sorted(_attempt_of(p) for p in pods_of(uid)) == [1, 2]

    # Cancelling a finished Execution is a spec change, but not a new run.
    cancelled_generation = _patch_spec(custom, namespace, "rerun", {"cancel": True})["metadata"][
        "generation"
    ]
    observed = kube.wait_until(
        lambda: (
            (get_execution("rerun").get("status") or {}).get("observedGeneration")
            == cancelled_generation
        ),
        15,
        "the operator to observe the cancel",
    )
    assert observed
    after = get_execution("rerun")["status"]
    assert (after["phase"], after["attempts"], after["result"]) == ("Succeeded", 2, {"double": 4})
    assert {c["observedGeneration"] for c in after["conditions"]} == {cancelled_generation}
    assert len(pods_of(uid)) == 2


# --- 5. TTL ---------------------------------------------------------------------------


@pytest.mark.slow
def test_ttl_deletes_the_finished_execution_and_its_objects(
    apply_execution: Apply,
    pods_of: PodsOf,
    configmaps_of: PodsOf,
    custom: client.CustomObjectsApi,
    namespace: str,
) -> None:
    # Past the inline limit, so the attempt has a payload ConfigMap to collect too.
    code = "#" * Settings().inline_payload_max_bytes + "\n" + HELLO
    created = apply_execution("shortlived", {"code": code, "ttlSecondsAfterFinished": 5})
    uid = created["metadata"]["uid"]

    def owned() -> tuple[list[Any], list[Any]]:
        return pods_of(uid), configmaps_of(uid)

    # A watch sees the terminal status and the deletion, however briefly the first lasts.
    status: dict[str, Any] = {}
    stream = watch.Watch().stream(
        custom.list_namespaced_custom_object,
        GROUP,
        VERSION,
        namespace,
        PLURAL,
        field_selector="metadata.name=shortlived",
        resource_version=created["metadata"]["resourceVersion"],
        timeout_seconds=60,
    )
    for event in stream:
        if event["type"] == "DELETED":
            deleted_at = time.time()
            break
        if not status and (event["object"].get("status") or {}).get("phase") in TERMINAL:
            status = event["object"]["status"]
            pods, configmaps = owned()
            assert (len(pods), len(configmaps)) == (1, 1), "the objects exist until the TTL"
    else:
        raise AssertionError(f"not deleted within 60 s; last status {status}")
    assert status["phase"] == "Succeeded", status
    completed = datetime.fromisoformat(status["completionTime"]).timestamp()
    assert deleted_at >= completed + 5, "deleted before its TTL"
    kube.wait_until(lambda: owned() == ([], []), 30, "the pod and ConfigMap to be collected")


# --- 6. invalid specs -----------------------------------------------------------------


def test_spec_the_schema_cannot_reject_fails_as_invalid_spec(
    apply_execution: Apply,
    wait_phase: Wait,
    pods_of: PodsOf,
    configmaps_of: PodsOf,
) -> None:
    spec = {
        "code": HELLO,
        "codeFrom": {"configMapKeyRef": {"name": "code", "key": "main.py"}},
    }
    created = apply_execution("both", spec)
    status = wait_phase("both", timeout=15)

    assert (status["phase"], status["reason"]) == ("Failed", "InvalidSpec"), status
    assert "spec.codeFrom" in status["message"]
    assert pods_of(created["metadata"]["uid"]) == []
    assert configmaps_of(created["metadata"]["uid"]) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("timeoutSeconds", 0), ("timeoutSeconds", "thirty"), ("retries", -1)],
)
def test_spec_the_schema_rejects_is_refused_by_the_api(
    apply_execution: Apply, field: str, value: Any
) -> None:
    with pytest.raises(ApiException) as raised:
        apply_execution("refused", {"code": HELLO, field: value})
    assert raised.value.status == 422
    assert field in str(raised.value.body)


# --- 7. events ---------------------------------------------------------------------------


def test_transitions_are_events_on_the_execution(
    apply_execution: Apply, wait_phase: Wait, events_of: Callable[[str], list[Any]]
) -> None:
    apply_execution("noted", {"code": HELLO})
    assert wait_phase("noted", timeout=30)["phase"] == "Succeeded"

    def reasons() -> set[str] | None:
        found = {e.reason for e in events_of("noted")}
        return found if {"Pending", "Completed"} <= found else None

    found = kube.wait_until(reasons, 10, "Pending and Completed events")
    completed = [e for e in events_of("noted") if e.reason == "Completed"]
    assert completed[0].type == "Normal"
    assert completed[0].involved_object.kind == "Execution"
    assert "Pending" in found


# --- 8. metrics ---------------------------------------------------------------------------


@pytest.mark.slow
def test_metrics_count_outcomes_and_pod_creation(
    operator: OperatorProcess, apply_execution: Apply, wait_phase: Wait
) -> None:
    apply_execution("measured", {"code": HELLO})
    apply_execution("measured-fail", {"code": "raise ValueError('no')"})
    assert wait_phase("measured", timeout=30)["phase"] == "Succeeded"
    assert wait_phase("measured-fail", timeout=30)["reason"] == "UserError"

    def outcomes_counted() -> list[str] | None:
        # The counter follows the status write, so a scrape may briefly lag the phase.
        lines = operator.metrics_text().splitlines()
        outcomes = [line for line in lines if line.startswith("execution_outcomes_total{")]
        counted = all(
            any(f'reason="{reason}"' in line for line in outcomes)
            for reason in ("Completed", "UserError")
        )
        return lines if counted else None

    lines = kube.wait_until(
        outcomes_counted, 10, "Completed and UserError in execution_outcomes_total"
    )
    creation = [line for line in lines if line.startswith("execution_pod_creation_seconds")]
    count = next(
        line for line in creation if line.startswith("execution_pod_creation_seconds_count")
    )
    assert float(count.rsplit(" ", 1)[1]) >= 2, count
    # Buckets in seconds: creating a pod takes well under one.
    assert any('le="0.1"' in line for line in creation), creation


# --- 9. start failures ---------------------------------------------------------------------


def test_missing_image_fails_at_the_start_deadline_naming_it(
    apply_execution: Apply, wait_phase: Wait, pods_of: PodsOf, runner_image: str
) -> None:
    # An allowed repository (the runner's) with a tag that does not exist; the image
    # may still appear (pushed late), so pulls are retried until the start deadline.
    image = runner_image.rsplit(":", 1)[0] + ":does-not-exist"
    apply_execution("noimage", {"code": HELLO, "image": image, "startDeadlineSeconds": 8})
    pending = wait_phase("noimage", "Pending", timeout=30)
    assert pending["attempts"] == 1
    status = wait_phase("noimage", "Failed", timeout=60)

    assert (status["reason"], status["code"]) == ("StartDeadlineExceeded", 500), status
    assert image in status["message"]


@pytest.mark.slow
def test_unschedulable_pod_hits_the_start_deadline(
    apply_execution: Apply, wait_phase: Wait, pods_of: PodsOf
) -> None:
    started = time.monotonic()
    created = apply_execution(
        "stuck",
        {"code": HELLO, "startDeadlineSeconds": 3, "podTemplate": {"nodeSelector": {"nope": "1"}}},
    )
    status = wait_phase("stuck", timeout=15)
    elapsed = time.monotonic() - started

    assert (status["phase"], status["reason"]) == ("Failed", "StartDeadlineExceeded"), status
    assert elapsed < 10, f"took {elapsed:.1f}s"
    assert "startDeadlineSeconds" in status["message"]
    kube.wait_until(
        lambda: not pods_of(created["metadata"]["uid"]), 10, "the stuck pod to be deleted"
    )


# --- 10. API refusals ---------------------------------------------------------------


def test_a_refused_pod_is_created_once_the_api_allows_it(
    operator: OperatorProcess,
    apply_execution: Apply,
    wait_phase: Wait,
    get_execution: Get,
    core: client.CoreV1Api,
    namespace: str,
) -> None:
    # A quota of zero pods makes the API refuse the pod; no watch event follows.
    core.create_namespaced_resource_quota(
        namespace,
        client.V1ResourceQuota(
            metadata=client.V1ObjectMeta(name="no-pods"),
            spec=client.V1ResourceQuotaSpec(hard={"pods": "0"}),
        ),
    )
    kube.wait_until(
        lambda: core.read_namespaced_resource_quota("no-pods", namespace).status.hard or {},
        30,
        "the quota to be in force",
    )
    apply_execution("refused", {"code": "result = 'created after all'"})
    kube.wait_until(
        lambda: (get_execution("refused").get("status") or {}).get("phase") == "Pending",
        30,
        "the attempt to be recorded",
    )
    kube.wait_until(
        lambda: "exceeded quota: no-pods" in operator.log_text(), 30, "the API to refuse the pod"
    )
    assert core.list_namespaced_pod(namespace).items == []

    core.delete_namespaced_resource_quota("no-pods", namespace)
    status = wait_phase("refused", timeout=60)
    assert (status["phase"], status["result"], status["attempts"]) == (
        "Succeeded",
        "created after all",
        1,
    )
