"""One Execution's content cannot stop the operator serving the others."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

Apply = Callable[..., dict[str, Any]]
Wait = Callable[..., dict[str, Any]]
PodsOf = Callable[[str], list[Any]]

DEPTH = 1500


@pytest.fixture
def deep_json() -> Iterator[None]:
    """This test process must itself encode and decode the deep input."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)
    yield
    sys.setrecursionlimit(previous)


@pytest.mark.usefixtures("deep_json")
def test_deeply_nested_input_is_invalid_and_the_operator_keeps_serving(
    apply_execution: Apply, wait_phase: Wait, pods_of: PodsOf
) -> None:
    value: Any = 1
    for _ in range(DEPTH - 1):
        value = [value]
    deep = apply_execution("deep", {"code": "result = 1", "input": value})
    hello = apply_execution("after-deep", {"code": "result = 'still serving'"})

    assert wait_phase("after-deep", timeout=60).get("result") == "still serving"
    status = wait_phase("deep", timeout=30)
    assert (status["phase"], status["reason"]) == ("Failed", "InvalidSpec"), status
    assert f"spec.input: nested {DEPTH} levels deep" in status["message"]
    assert pods_of(deep["metadata"]["uid"]) == []
    assert len(pods_of(hello["metadata"]["uid"])) == 1
