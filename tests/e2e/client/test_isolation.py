"""Env values: each run sees only its own; they live only in the per-run Secret."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from execution_operator.client import AsyncClusterExecutor, ClusterExecutor
from kubernetes import client

from tests.support import kube

# Returns every variable the run could see that any of the ten runs set.
SEE_ENV = (
    "import json, os\n"
    "seen = {k: v for k, v in os.environ.items() if k.startswith(('TENANT', 'ONLY_'))}\n"
    "print(json.dumps(seen))\n"
)


def env_of(i: int) -> dict[str, str]:
    return {"TENANT_ID": f"tenant-{i}", f"ONLY_{i}": f"value-{i}-7c1e"}


def test_ten_threads_see_only_their_own_env(executor: ClusterExecutor) -> None:
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda i: executor.execute(SEE_ENV, {}, env_of(i)), range(10)))
    assert results == [env_of(i) for i in range(10)]
    assert len(executor.created) == 10


def test_asyncio_runs_ten_concurrently(executor: ClusterExecutor, namespace: str) -> None:
    async def main() -> list[Any]:
        async with AsyncClusterExecutor(
            kubeconfig=kube.kubeconfig_path(), namespace=namespace
        ) as aexecutor:
            both = [
                aexecutor.execute(SEE_ENV, {}, env_of(i))
                if i % 2
                else executor.aexecute(SEE_ENV, {}, env_of(i))
                for i in range(10)
            ]
            return list(await asyncio.gather(*both))

    assert asyncio.run(main()) == [env_of(i) for i in range(10)]


def test_env_values_only_in_the_secret_which_goes_with_the_execution(
    executor: ClusterExecutor,
    get_execution: Callable[[str], dict[str, Any]],
    core: client.CoreV1Api,
    namespace: str,
) -> None:
    secret_value = "s3cr3t-9d4b2a71"
    handle = executor.submit(
        "import os\nresult = len(os.environ['API_KEY'])\n", {}, {"API_KEY": secret_value}
    )
    assert handle.wait() == len(secret_value)
    body = get_execution(handle.name)
    assert secret_value not in json.dumps(body)
    assert body["spec"]["env"] == [
        {
            "name": "API_KEY",
            "valueFrom": {"secretKeyRef": {"name": f"{handle.name}-env", "key": "API_KEY"}},
        }
    ]
    secret = core.read_namespaced_secret(f"{handle.name}-env", namespace)
    [owner] = secret.metadata.owner_references
    assert (owner.kind, owner.name, owner.uid) == (
        "Execution",
        handle.name,
        body["metadata"]["uid"],
    )

    # Deleted by someone else (not the client): the garbage collector removes the Secret.
    client.CustomObjectsApi(core.api_client).delete_namespaced_custom_object(
        "execution-operator.io", "v1alpha1", namespace, "executions", handle.name
    )

    def secret_gone() -> bool:
        names = [s.metadata.name for s in core.list_namespaced_secret(namespace).items]
        return f"{handle.name}-env" not in names

    kube.wait_until(secret_gone, 60, "the garbage collector to delete the env Secret")


def test_cancelling_the_awaiting_task_cancels_the_execution(executor: ClusterExecutor) -> None:
    async def main() -> None:
        task = asyncio.create_task(
            executor.aexecute("import time\ntime.sleep(600)\n", {}, timeout_secs=300)
        )
        while not executor.created:  # the Execution exists once submit() returned
            await asyncio.sleep(0.05)
        [name] = executor.created
        while executor.handle(name).status.get("phase") != "Running":
            await asyncio.sleep(0.1)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        else:
            raise AssertionError("the task was not cancelled")
        await asyncio.to_thread(executor.handle(name).wait_status, 60)

    asyncio.run(main())
    [name] = executor.created
    assert executor.handle(name).status["phase"] == "Cancelled"
