"""Run code on the cluster the way an in-process executor did.

    from execution_operator.client import ClusterExecutor

    with ClusterExecutor(timeout_secs=30) as executor:
        result = executor.execute(code, {"text": "hi"}, env_vars={"API_KEY": "k"})

The names load on first use, so `execution --help` does not wait for the
Kubernetes library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .aio import AsyncClusterExecutor
    from .errors import ClientError, ExecutionNotFound, WaitTimeout
    from .executor import ClusterExecutor
    from .handle import ExecutionHandle

_WHERE = {
    "AsyncClusterExecutor": ".aio",
    "ClientError": ".errors",
    "ClusterExecutor": ".executor",
    "ExecutionHandle": ".handle",
    "ExecutionNotFound": ".errors",
    "WaitTimeout": ".errors",
}
__all__ = [
    "AsyncClusterExecutor",
    "ClientError",
    "ClusterExecutor",
    "ExecutionHandle",
    "ExecutionNotFound",
    "WaitTimeout",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name], __name__), name)
