"""ClusterExecutor: the in-process executor's API, each run an Execution on the cluster."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from types import TracebackType
from typing import Any

from kubernetes.client.exceptions import ApiException
from typing_extensions import Unpack
from urllib3.exceptions import HTTPError

from . import _results, _spec
from ._api import ExecutionsApi
from ._connection import connect
from ._log_settings import logs_from_env
from .errors import ClientError, ExecutionNotFound, WaitTimeout
from .handle import ExecutionHandle

log = logging.getLogger(__name__)
# The API server refuses a body it finds invalid with these: the caller's input.
_INVALID = (400, 422)


class ClusterExecutor:
    """Runs code as Executions: `execute()` returns what the in-process executor returned.

    With no arguments it uses the current kubeconfig context and its namespace (or,
    in a pod, the service account's). Thread-safe; a context manager.
    """

    def __init__(
        self,
        timeout_secs: float = 30,
        *,
        namespace: str | None = None,
        kubeconfig: str | None = None,
        context: str | None = None,
        name_prefix: str = "exec",
        spec: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ):
        """`spec`: extra Execution spec fields for every run (image, rlimits, resources, ...)."""
        self.timeout_secs = timeout_secs
        self.name_prefix = name_prefix
        self.client_id = uuid.uuid4().hex[:12]
        self._api = ExecutionsApi(connect(kubeconfig, context, namespace))
        self.namespace = self._api.namespace
        self._extra_spec = dict(spec or {})
        self._logs = logs_from_env(os.environ if environ is None else environ)
        self._lock = threading.Lock()
        self._created: dict[str, bool] = {}  # name → has an env Secret
        self._callbacks: list[Callable[[], None]] = []
        self._pool: ThreadPoolExecutor | None = None

    # --- running -------------------------------------------------------------

    def submit(
        self,
        code: str | None = None,
        data: Any = None,
        env_vars: Mapping[str, str] | None = None,
        *,
        file_path: str | os.PathLike[str] | None = None,
        timeout_secs: float | None = None,
        payload_type: str | None = None,
        optimization_id: str | None = None,
        job_id: str | None = None,
        env_from_secrets: Sequence[str] = (),
        name: str | None = None,
    ) -> ExecutionHandle:
        """Create the Execution (and its env Secret) and return at once."""
        env = dict(env_vars or {})
        _spec.check_env_names(list(env))
        request = _spec.RunRequest(
            code=_spec.load_code(code, file_path),
            data=data,
            env_vars=env,
            env_from_secrets=tuple(env_from_secrets),
            timeout_secs=timeout_secs,
            payload_type=payload_type,
            optimization_id=optimization_id,
            job_id=job_id,
        )
        run_name = name or _spec.new_name(self.name_prefix)
        body = _spec.execution_body(
            request,
            run_name,
            client_id=self.client_id,
            default_timeout_secs=self.timeout_secs,
            logs=self._logs,
            extra_spec=self._extra_spec,
        )
        return ExecutionHandle(self._api, self._create(run_name, body, env))

    def _create(self, name: str, body: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
        """Secret first (so the pod never waits for it), then the Execution, then ownership."""
        secret = _spec.env_secret_name(name)
        if env:
            self._api.create_secret(_spec.env_secret_body(name, env, self.client_id))
        try:
            created = self._api.create(body)
        except BaseException:
            if env:
                self._api.delete_secret(secret)
            raise
        with self._lock:
            self._created[name] = bool(env)
        if env:
            try:
                self._api.own_secret(secret, _spec.owner_patch(created))
            except BaseException:  # an unowned Secret would outlive the run: undo both
                self.delete(name)
                raise
        return created

    def execute(
        self,
        code: str | None = None,
        data: Any = None,
        env_vars: Mapping[str, str] | None = None,
        **options: Unpack[_spec.RunOptions],
    ) -> Any:
        """Run and wait: the code's JSON result, or {"code": 400|500, "error": "..."}."""
        handle = self._try_submit(partial(self.submit, code, data, env_vars, **options))
        return handle if not isinstance(handle, ExecutionHandle) else _wait_result(handle)

    async def aexecute(
        self,
        code: str | None = None,
        data: Any = None,
        env_vars: Mapping[str, str] | None = None,
        **options: Unpack[_spec.RunOptions],
    ) -> Any:
        """`execute()` for asyncio; cancelling the task cancels the Execution."""
        loop = asyncio.get_running_loop()
        pool = self.threads()
        submit = partial(self.submit, code, data, env_vars, **options)
        handle = await loop.run_in_executor(pool, self._try_submit, submit)
        if not isinstance(handle, ExecutionHandle):
            return handle
        try:
            return await loop.run_in_executor(pool, _wait_result, handle)
        except asyncio.CancelledError:
            pool.submit(_quietly, handle.cancel)
            raise

    def threads(self) -> ThreadPoolExecutor:
        """The pool asyncio callers wait in (the loop's default one is small)."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="execution")
            return self._pool

    @staticmethod
    def _try_submit(submit: Callable[[], ExecutionHandle]) -> ExecutionHandle | dict[str, Any]:
        """The handle, or the error dict the in-process executor returned for bad input."""
        try:
            return submit()
        except (ValueError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            return _results.error_result(_results.USER_ERROR, str(exc))
        except ApiException as exc:
            code = _results.USER_ERROR if exc.status in _INVALID else _results.SYSTEM_ERROR
            return _results.error_result(code, f"The Execution was refused: {_api_reason(exc)}")
        except HTTPError as exc:
            return _results.error_result(_results.SYSTEM_ERROR, f"Failed to execute code: {exc}")

    # --- stopping ------------------------------------------------------------

    def handle(self, name: str) -> ExecutionHandle:
        """A handle to an existing Execution of this namespace."""
        return ExecutionHandle(self._api, self._api.get(name))

    def kill(self, name_or_handle: str | ExecutionHandle, timeout: float = 2) -> bool:
        """Cancel one Execution and wait up to `timeout` s; True when it has ended."""
        name = name_or_handle if isinstance(name_or_handle, str) else name_or_handle.name
        try:
            return self.handle(name).kill(timeout)
        except ExecutionNotFound:
            return True

    def kill_all(self, timeout: float = 2) -> list[str]:
        """Cancel every unfinished Execution this client created; the names still running."""
        handles = [
            h for h in (self._existing(n) for n in self.created) if h is not None and not h.done()
        ]
        for handle in handles:
            _quietly(handle.cancel)
        return [h.name for h in handles if not _quietly(h.kill, timeout)]

    # The in-process executor's names.
    kill_process = kill
    kill_all_processes = kill_all

    @property
    def created(self) -> list[str]:
        """Names of the Executions this client created and has not deleted."""
        with self._lock:
            return list(self._created)

    def _existing(self, name: str) -> ExecutionHandle | None:
        try:
            return self.handle(name)
        except ExecutionNotFound:
            return None

    # --- teardown ------------------------------------------------------------

    def register_teardown_callback(self, callback: Callable[[], None]) -> None:
        """Run at teardown, the last registered first."""
        with self._lock:
            self._callbacks.append(callback)

    def teardown(self, keep: bool = False, timeout: float = 5) -> None:
        """Callbacks (each one, even after another raised), then delete what this client created.

        keep=True: stop running Executions but leave every object for inspection.
        """
        with self._lock:
            callbacks, self._callbacks = self._callbacks[::-1], []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("teardown callback %r failed", callback)
        if keep:
            self.kill_all(timeout)
        else:
            for name in self.created:
                self.delete(name)
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def delete(self, name: str) -> bool:
        """Delete an Execution (pod, ConfigMap and env Secret go with it); False if it was gone."""
        with self._lock:
            has_secret = self._created.pop(name, False)
        deleted = self._api.delete(name)
        if has_secret:  # the garbage collector would too; no need to wait for it
            self._api.delete_secret(_spec.env_secret_name(name))
        return deleted

    def list(self) -> list[dict[str, Any]]:
        """Every Execution of the namespace."""
        return self._api.list()

    def __enter__(self) -> ClusterExecutor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.teardown()


def _wait_result(handle: ExecutionHandle) -> Any:
    """The shaped result; a wait that runs out cancels the Execution and is a 500."""
    try:
        return handle.wait()
    except WaitTimeout as exc:
        _quietly(handle.cancel)
        return _results.error_result(_results.SYSTEM_ERROR, f"{exc}; it was cancelled.")
    except (ClientError, ApiException, HTTPError) as exc:
        return _results.error_result(_results.SYSTEM_ERROR, f"Failed to execute code: {exc}")


def _quietly(call: Callable[..., Any], *args: Any) -> Any:
    try:
        return call(*args)
    except (ClientError, ApiException, HTTPError) as exc:
        log.warning("%s failed: %s", getattr(call, "__name__", call), exc)
        return None


def _api_reason(exc: ApiException) -> str:
    import json  # noqa: PLC0415 - only refusals pay for it

    try:
        return str(json.loads(exc.body or "{}").get("message") or exc.reason)
    except ValueError:
        return str(exc.reason)
