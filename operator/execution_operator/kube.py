"""The few Kubernetes API calls the controller makes (blocking; run in kopf's threads).

The operator reads and writes Executions, Pods and ConfigMaps and posts Events
through kopf. It never reads Secrets: the kubelet injects their values.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from . import models, naming
from .api_errors import NotOursError, RefusedError, permanent_refusal

Body = dict[str, Any]
EVENT_SOURCE = "execution-operator"

_lock = threading.Lock()
_api: client.ApiClient | None = None
# (connect, read) seconds for every call: one hung request must not hold a worker or
# the wake-up thread forever. Reads of a pod's log go through the kubelet: same bound.
REQUEST_TIMEOUT: Final = (10.0, 30.0)


class _BoundedApiClient(client.ApiClient):
    """An ApiClient whose calls time out unless a call says otherwise."""

    def call_api(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("_request_timeout") is None:
            kwargs["_request_timeout"] = REQUEST_TIMEOUT
        return super().call_api(*args, **kwargs)


def api() -> client.ApiClient:
    """One shared client: in-cluster credentials in a pod, else the kubeconfig."""
    global _api  # noqa: PLW0603 - a process-wide connection pool
    with _lock:
        if _api is None:
            loader: Any = config  # the loaders are untyped
            try:
                loader.load_incluster_config()
            except config.ConfigException:
                loader.load_kube_config()
            _api = _BoundedApiClient(configuration())
        return _api


# The dispatcher's threads (kopf's executor now runs only startup and probes), as many
# calls made beside them (attempts.shared_pool), the wake-up thread and the three Event
# threads: with fewer pooled connections, urllib3 discards the extra ones and every
# later call pays a new TLS handshake.
WORKERS: Final = 16
API_CONNECTIONS: Final = 2 * WORKERS + 4


def configuration() -> client.Configuration:
    """The loaded client configuration, with a connection per thread that calls the API."""
    loaded: client.Configuration = client.Configuration.get_default_copy()
    loaded.connection_pool_maxsize = API_CONNECTIONS
    return loaded


# Typed as Any: the client takes and returns plain dicts where its stubs say models.
def _core() -> Any:
    return client.CoreV1Api(api())


def custom_api() -> Any:
    return client.CustomObjectsApi(api())


def _json(response: Any) -> Body:
    """A response as the API server sent it, like kopf bodies.

    Not via the client's models: they turn timestamps into `...+00:00` where the
    API (and kopf) say `...Z`, and a status copied from both would flip-flop.
    """
    body: Body = json.loads(response.data)
    return body


LIST_PAGE = 500  # Executions per list request: memory stays flat however many there are


def list_executions(namespaces: tuple[str, ...]) -> Iterator[Body]:
    """Every Execution in `namespaces` (all when empty), read page by page."""
    for namespace in namespaces or (None,):
        token = None
        while True:
            if namespace is None:
                page = custom_api().list_cluster_custom_object(
                    models.GROUP, models.VERSION, models.PLURAL, limit=LIST_PAGE, _continue=token
                )
            else:
                page = custom_api().list_namespaced_custom_object(
                    models.GROUP,
                    models.VERSION,
                    namespace,
                    models.PLURAL,
                    limit=LIST_PAGE,
                    _continue=token,
                )
            yield from page.get("items") or []
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                break


def get_execution(namespace: str, name: str) -> Body | None:
    try:
        body: Body = custom_api().get_namespaced_custom_object(
            models.GROUP, models.VERSION, namespace, models.PLURAL, name
        )
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return body


def patch_execution_status(execution: Body, status: dict[str, Any]) -> Body:
    """Merge-patch the status, failing with 409 if the Execution changed since it was read."""
    meta = execution["metadata"]
    patch = {"metadata": {"resourceVersion": meta["resourceVersion"]}, "status": status}
    body: Body = custom_api().patch_namespaced_custom_object_status(
        models.GROUP, models.VERSION, meta["namespace"], models.PLURAL, meta["name"], patch
    )
    return body


def delete_execution(execution: Body) -> None:
    meta = execution["metadata"]
    try:
        custom_api().delete_namespaced_custom_object(
            models.GROUP,
            models.VERSION,
            meta["namespace"],
            models.PLURAL,
            meta["name"],
            body=client.V1DeleteOptions(
                propagation_policy="Background", preconditions={"uid": meta["uid"]}
            ),
        )
    except ApiException as exc:
        if exc.status not in (404, 409):
            raise


def get_pod(namespace: str, name: str) -> Body | None:
    try:
        response = _core().read_namespaced_pod(name, namespace, _preload_content=False)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return _json(response)


def configmap_keys(namespace: str, name: str) -> frozenset[str] | None:
    try:
        found = _core().read_namespaced_config_map(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return frozenset(found.data or {}) | frozenset(found.binary_data or {})


def create_if_absent(body: Body) -> Body | None:
    """Create a Pod or ConfigMap; the object created, or None if the name is taken."""
    meta = body["metadata"]
    core = _core()
    create = (
        core.create_namespaced_pod if body["kind"] == "Pod" else core.create_namespaced_config_map
    )
    try:
        # Raw JSON: the client's model classes take milliseconds to build a V1Pod.
        response = create(meta["namespace"], body, _preload_content=False)
    except ApiException as exc:
        refusal = permanent_refusal(exc)
        if refusal is not None:
            raise RefusedError(body["kind"], meta["name"], refusal) from exc
        if exc.status != 409:
            raise
        return None
    return _json(response)


def create_or_adopt(body: Body) -> Body | None:
    """Create a Pod or ConfigMap; the object created, or None if ours exists already.

    One that exists under the name is adopted only if its controller owner is the
    same as `body`'s; otherwise NotOursError: it is never mounted or run. A
    ConfigMap of ours with other data (made for a decision that was never
    recorded) is immutable: it is made anew.
    """
    created = create_if_absent(body)
    if created is not None:
        return created
    meta = body["metadata"]
    namespace, name, kind = meta["namespace"], meta["name"], body["kind"]
    core = _core()
    pod = kind == "Pod"
    read = core.read_namespaced_pod if pod else core.read_namespaced_config_map
    existing = _json(read(name, namespace, _preload_content=False))
    if not naming.controlled_by(existing, meta["ownerReferences"][0]["uid"]):
        raise NotOursError(kind, name)
    if pod or existing.get("data") == body.get("data"):
        return None
    found = existing["metadata"]
    core.delete_namespaced_config_map(
        name,
        namespace,
        body=client.V1DeleteOptions(
            preconditions={"uid": found["uid"], "resourceVersion": found["resourceVersion"]}
        ),
    )
    remade = create_if_absent(body)
    if remade is None:  # made again meanwhile: the step is retried and looks again
        raise ApiException(status=409, reason=f"ConfigMap {name} was recreated meanwhile")
    return remade


def delete_pod(namespace: str, name: str, grace_seconds: int | None = None) -> None:
    try:
        _core().delete_namespaced_pod(
            name,
            namespace,
            grace_period_seconds=grace_seconds,
            propagation_policy="Background",
        )
    except ApiException as exc:
        if exc.status != 404:
            raise


# The runtime stores a long line as pieces of this size; `tailLines` counts pieces.
LOG_PIECE_BYTES = 16 * 1024


def read_log_tail(namespace: str, name: str, container: str, max_bytes: int) -> str:
    """About the last `max_bytes` of a container's log, whole lines reassembled.

    The framed result is the last stdout line and may span many pieces: ask for
    as many pieces as fit in `max_bytes`, and let `limitBytes` (counted from the
    first byte returned) never cut the end.
    """
    # Raw bytes: the client would otherwise json-decode a log that is one JSON line.
    core = _core()
    response = core.read_namespaced_pod_log(
        name,
        namespace,
        container=container,
        tail_lines=max(4, max_bytes // LOG_PIECE_BYTES),
        limit_bytes=max_bytes + LOG_PIECE_BYTES,
        _preload_content=False,
    )
    return bytes(response.data).decode("utf-8", errors="replace")


def post_event(
    execution: Mapping[str, Any],
    kind: str,
    reason: str,
    message: str,
    at: datetime | None = None,
) -> None:
    """A Kubernetes Event on the Execution (what `kubectl describe exe` shows), of time `at`."""
    meta = execution["metadata"]
    now = at or datetime.now(UTC)
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
        "involvedObject": {
            "apiVersion": models.API_VERSION,
            "kind": models.KIND,
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
            "resourceVersion": meta.get("resourceVersion"),
        },
        "type": kind,
        "reason": reason[:128],
        "message": message[:1024],
        "source": {"component": EVENT_SOURCE},
        "reportingComponent": EVENT_SOURCE,
        "firstTimestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lastTimestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "count": 1,
    }
    # A refusal is raised: handlers.queued_poster drops a namespace's Events once it goes away.
    _core().create_namespaced_event(meta["namespace"], event)
