"""AsyncClusterExecutor: the same surface for asyncio (blocking calls run in threads)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from functools import partial
from types import TracebackType
from typing import Any, TypeVar

from .executor import ClusterExecutor
from .handle import ExecutionHandle

T = TypeVar("T")


class AsyncClusterExecutor:
    """`await executor.execute(...)`; an async context manager. Takes ClusterExecutor's args."""

    def __init__(self, timeout_secs: float = 30, **options: Any):
        self.sync = ClusterExecutor(timeout_secs, **options)
        self.namespace = self.sync.namespace

    async def execute(
        self,
        code: str | None = None,
        data: Any = None,
        env_vars: Mapping[str, str] | None = None,
        **options: Any,
    ) -> Any:
        """The code's JSON result, or {"code": 400|500, "error": "..."}."""
        return await self.sync.aexecute(code, data, env_vars, **options)

    async def submit(self, *args: Any, **options: Any) -> ExecutionHandle:
        return await self._run(partial(self.sync.submit, *args, **options))

    async def wait(self, handle: ExecutionHandle, timeout: float | None = None) -> Any:
        return await self._run(partial(handle.wait, timeout))

    async def kill(self, name_or_handle: str | ExecutionHandle, timeout: float = 2) -> bool:
        return await self._run(partial(self.sync.kill, name_or_handle, timeout))

    async def kill_all(self, timeout: float = 2) -> list[str]:
        return await self._run(partial(self.sync.kill_all, timeout))

    def register_teardown_callback(self, callback: Callable[[], None]) -> None:
        self.sync.register_teardown_callback(callback)

    async def teardown(self, keep: bool = False, timeout: float = 5) -> None:
        await self._run(partial(self.sync.teardown, keep, timeout))

    async def _run(self, call: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.sync.threads(), call)

    async def __aenter__(self) -> AsyncClusterExecutor:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.teardown()
