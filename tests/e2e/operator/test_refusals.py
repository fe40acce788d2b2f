"""A pod the API server refuses for good fails the Execution at once, naming why."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

Apply = Callable[..., dict[str, Any]]
Wait = Callable[..., dict[str, Any]]
PodsOf = Callable[[str], list[Any]]


@pytest.mark.parametrize(
    ("template", "cause"),
    [
        ({"priorityClassName": "no-such-priority"}, "no-such-priority"),
        (
            {"tolerations": [{"key": "dedicated", "operator": "Exists", "value": "x"}]},
            "tolerations",
        ),
    ],
    ids=["missing-priority-class", "invalid-toleration"],
)
def test_a_pod_refused_for_good_fails_as_pod_rejected(
    apply_execution: Apply, wait_phase: Wait, pods_of: PodsOf, template: dict[str, Any], cause: str
) -> None:
    created = apply_execution(
        "refused", {"code": "result = 1", "podTemplate": template, "startDeadlineSeconds": 300}
    )
    status = wait_phase("refused", timeout=30)

    assert (status["phase"], status["reason"], status["code"]) == ("Failed", "PodRejected", 500)
    assert cause in status["message"]
    assert status["attempts"] == 1
    assert pods_of(created["metadata"]["uid"]) == []
