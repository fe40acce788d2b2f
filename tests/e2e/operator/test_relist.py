"""The relist reads every Execution of the served namespaces, page by page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from execution_operator import kube

from tests.support import kube as cluster


def test_list_executions_pages_through_a_namespace(
    apply_execution: Callable[..., dict[str, Any]],
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for i in range(5):
        apply_execution(f"e{i}", {"code": "result = 1"})
    monkeypatch.setenv("KUBECONFIG", cluster.kubeconfig_path())
    monkeypatch.setattr(kube, "_api", None)  # a client of this test's own, from that config
    monkeypatch.setattr(kube, "LIST_PAGE", 2)  # three pages for five
    listed = list(kube.list_executions((namespace,)))
    assert sorted(e["metadata"]["name"] for e in listed) == [f"e{i}" for i in range(5)]
    assert {e["metadata"]["namespace"] for e in listed} == {namespace}
