"""The Argo CD health script of Execution, run by real Lua interpreters on hand-written objects."""

from __future__ import annotations

import shutil
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.support.argocd_health import (
    ARGOCD_CM,
    HEALTH_SCRIPT,
    INTERPRETERS,
    STATUSES,
    run_health,
)
from tests.support.kube import REPO

HEALTH_KEY = "resource.customizations.health.execution-operator.io_Execution"


@pytest.fixture(params=INTERPRETERS)
def lua(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if shutil.which(name) is None:
        pytest.skip(f"{name} is not installed (Debian package {name})")
    return name


def execution(generation: int = 1, **status: Any) -> dict[str, Any]:
    """An Execution as the API serves it; `status` empty means the operator wrote none."""
    obj: dict[str, Any] = {
        "apiVersion": "execution-operator.io/v1alpha1",
        "kind": "Execution",
        "metadata": {"name": "job", "namespace": "team", "generation": generation},
        "spec": {"code": "result = 1"},
    }
    if status:
        obj["status"] = status
    return obj


def finished(phase: str, reason: str, message: str, generation: int = 1) -> dict[str, Any]:
    ready, stalled = phase == "Succeeded", phase in ("Failed", "Cancelled")
    conditions = [
        {"type": kind, "status": "True" if true else "False", "reason": reason,
         "message": message, "observedGeneration": generation}
        for kind, true in (("Ready", ready), ("Reconciling", False), ("Stalled", stalled))
    ]  # fmt: skip
    return execution(
        generation,
        phase=phase,
        reason=reason,
        message=message,
        code={"Completed": 200, "UserError": 400}.get(reason, 500),
        observedGeneration=generation,
        attempts=1,
        conditions=conditions,
    )


@pytest.mark.parametrize(
    ("obj", "status", "message"),
    [
        (execution(), "Progressing", "Waiting for the operator to start the Execution."),
        (execution(attempts=1), "Progressing", "Waiting for the operator to start"),
        (
            execution(phase="Pending", observedGeneration=1, message="Waiting for pod p."),
            "Progressing",
            "Pending: Waiting for pod p.",
        ),
        (
            execution(phase="Running", observedGeneration=1, message="The code is running."),
            "Progressing",
            "Running: The code is running.",
        ),
        (
            finished("Succeeded", "Completed", "The code finished."),
            "Healthy",
            "Completed: The code finished.",
        ),
        (
            finished("Failed", "UserError", "The code raised ValueError."),
            "Degraded",
            "UserError: The code raised ValueError.",
        ),
        (finished("Failed", "Timeout", "Ran over 2 s."), "Degraded", "Timeout: Ran over 2 s."),
        (
            finished("Cancelled", "Cancelled", "The Execution was cancelled."),
            "Suspended",
            "Cancelled: The Execution was cancelled.",
        ),
        (execution(phase="Failed", observedGeneration=1), "Degraded", "Failed"),
        (execution(phase="Paused", observedGeneration=1), "Unknown", "unknown phase Paused"),
    ],
    ids=[
        "no-status", "no-phase", "pending", "running", "succeeded", "user-error",
        "timeout", "cancelled", "failed-without-reason", "unknown-phase",
    ],
)  # fmt: skip
def test_health_follows_the_phase(lua: str, obj: dict[str, Any], status: str, message: str) -> None:
    health = run_health(obj, lua)
    assert health.status == status
    assert health.message.startswith(message), health.message


@pytest.mark.parametrize("phase", ["Succeeded", "Failed"])
def test_a_status_of_an_older_generation_is_progressing(lua: str, phase: str) -> None:
    obj = finished(phase, "Completed", "The code finished.", generation=1)
    obj["metadata"]["generation"] = 2  # the spec changed in Git; the operator has not caught up
    health = run_health(obj, lua)
    assert health.status == "Progressing"
    assert "generation 2" in health.message
    assert "describes 1" in health.message


def test_a_status_without_observed_generation_is_progressing(lua: str) -> None:
    obj = finished("Succeeded", "Completed", "Done.")
    del obj["status"]["observedGeneration"]
    assert run_health(obj, lua).status == "Progressing"


def test_messages_arrive_unchanged(lua: str) -> None:
    text = 'He said "no" \\ at 100 % — ümlaut, tab\there\nand a second line'
    health = run_health(finished("Failed", "UserError", text), lua)
    assert (health.status, health.message) == ("Degraded", f"UserError: {text}")


def test_every_status_is_one_argo_cd_knows(lua: str) -> None:
    phases = ("Pending", "Running", "Succeeded", "Failed", "Cancelled")
    seen = {run_health(finished(p, p, "m"), lua).status for p in phases}
    assert seen <= STATUSES
    assert seen == {"Progressing", "Healthy", "Degraded", "Suspended"}


def test_argocd_cm_embeds_the_script_and_is_a_valid_configmap() -> None:
    config = yaml.safe_load(ARGOCD_CM.read_text())
    assert config["data"][HEALTH_KEY] == HEALTH_SCRIPT.read_text()
    for version in ("1.30.0", kubernetes_validate.latest_version()):
        kubernetes_validate.validate(config, version, strict=True)  # raises when invalid


def test_gitops_guide_shows_the_argocd_cm_snippet() -> None:
    guide = (REPO / "docs" / "gitops.md").read_text()
    assert ARGOCD_CM.read_text() in guide
