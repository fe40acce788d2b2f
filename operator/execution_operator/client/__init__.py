"""Run code on the cluster the way an in-process executor did.

from execution_operator.client import ClusterExecutor

with ClusterExecutor(timeout_secs=30) as executor:
    result = executor.execute(code, {"text": "hi"}, env_vars={"API_KEY": "k"})
"""

from __future__ import annotations

from .aio import AsyncClusterExecutor
from .errors import ClientError, ExecutionNotFound, WaitTimeout
from .executor import ClusterExecutor
from .handle import ExecutionHandle

__all__ = [
    "AsyncClusterExecutor",
    "ClientError",
    "ClusterExecutor",
    "ExecutionHandle",
    "ExecutionNotFound",
    "WaitTimeout",
]
