"""The "restricted" checker the fault suite uses finds each kind of violation."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.support import kube
from tests.support.pod_security import restricted_violations

GOOD: dict[str, Any] = kube.restricted_python_pod("p", "pass")


def test_a_restricted_pod_has_no_violations() -> None:
    assert restricted_violations(GOOD) == []


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (("spec", "hostNetwork"), True, "hostNetwork"),
        (
            ("spec", "containers", 0, "securityContext", "allowPrivilegeEscalation"),
            True,
            "allowPrivilegeEscalation",
        ),
        (
            ("spec", "containers", 0, "securityContext", "capabilities"),
            {"drop": ["NET_RAW"]},
            "drop must include ALL",
        ),
        (("spec", "containers", 0, "securityContext", "runAsUser"), 0, "runAsUser"),
        (("spec", "containers", 0, "securityContext", "privileged"), True, "privileged"),
        (("spec", "securityContext", "seccompProfile"), {"type": "Unconfined"}, "seccompProfile"),
        (("spec", "volumes", 0), {"name": "h", "hostPath": {"path": "/"}}, "hostPath"),
    ],
)
def test_each_broken_rule_is_named(path: tuple[Any, ...], value: Any, named: str) -> None:
    pod = copy.deepcopy(GOOD)
    target = pod
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    violations = restricted_violations(pod)
    assert any(named in v for v in violations), violations
