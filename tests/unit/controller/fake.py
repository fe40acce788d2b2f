"""An in-memory `Cluster` and a settable `Clock` for unit tests of the controller.

The fake keeps Executions, Pods and ConfigMaps as plain dicts and behaves like
the API server where the controller depends on it: conditional status writes
(409 on a stale resourceVersion), merge-patch semantics (None deletes a key), a
status that must fit `status_model.ExecutionStatus`, 409 on creating a name that
exists (then adoption by controller owner), and 404 → None on reads. Failures
are injected per call name.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from execution_operator import api_errors, models, naming, status_model
from execution_operator.builders import CONTAINER_NAME
from execution_operator.podview import format_time
from execution_runner import protocol
from kubernetes.client.exceptions import ApiException

Body = dict[str, Any]
START = datetime(2026, 1, 1, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.wall = START
        self.mono = 1000.0

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds


def api_error(status: int, message: str = "") -> ApiException:
    exc = ApiException(status=status, reason=message or f"HTTP {status}")
    exc.body = json.dumps({"kind": "Status", "message": message})
    return exc


def _merge(target: dict[str, Any], patch: Mapping[str, Any]) -> None:
    """RFC 7386 merge patch."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class FakeCluster:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.executions: dict[tuple[str, str], Body] = {}
        self.pods: dict[tuple[str, str], Body] = {}
        self.configmaps: dict[tuple[str, str], Body] = {}
        self.logs: dict[str, str] = {}
        self.events: list[tuple[str, str, str]] = []
        self.deleted_pods: list[tuple[str, int | None]] = []
        self.deleted_executions: list[str] = []
        self.created: list[tuple[str, str]] = []  # (kind, name) of every creation
        self.remade: list[str] = []  # ConfigMaps of ours made anew with other data
        self.calls: list[str] = []
        # What the next calls by method name (e.g. "create_or_adopt") raise; None: succeed.
        self.failures: dict[str, list[BaseException | None]] = defaultdict(list)
        # Called during the next call by method name (e.g. a hang: the clock moves).
        self.during: dict[str, Callable[[], None]] = {}
        self._version = 0

    # --- test helpers ------------------------------------------------------------

    def _next_version(self) -> str:
        self._version += 1
        return str(self._version)

    def apply(self, name: str, namespace: str = "ns", **spec: Any) -> Body:
        """Create an Execution, or change its spec (a new generation) if it exists."""
        key = (namespace, name)
        spec = {"code": "result = 1", **spec}
        if key in self.executions:
            meta = self.executions[key]["metadata"]
            meta["generation"] += 1
            self.executions[key]["spec"] = spec
            meta["resourceVersion"] = self._next_version()
            return self.execution(name, namespace)
        self.executions[key] = {
            "apiVersion": models.API_VERSION,
            "kind": models.KIND,
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": str(uuid.uuid4()),
                "generation": 1,
                "resourceVersion": self._next_version(),
                "creationTimestamp": format_time(self.clock.now()),
            },
            "spec": spec,
        }
        return self.execution(name, namespace)

    def execution(self, name: str, namespace: str = "ns") -> Body:
        return copy.deepcopy(self.executions[(namespace, name)])

    def status(self, name: str, namespace: str = "ns") -> Body:
        return dict(self.executions[(namespace, name)].get("status") or {})

    def pod(self, name: str, namespace: str = "ns") -> Body:
        return self.pods[(namespace, name)]

    def set_container(self, pod_name: str, state: Body, phase: str, namespace: str = "ns") -> Body:
        """What the kubelet would report for the runner container."""
        pod = self.pods[(namespace, pod_name)]
        pod["status"] = {
            "phase": phase,
            "containerStatuses": [{"name": CONTAINER_NAME, "state": state}],
        }
        pod["metadata"]["resourceVersion"] = self._next_version()
        return copy.deepcopy(pod)

    def run(self, pod_name: str) -> Body:
        started = format_time(self.clock.now())
        return self.set_container(pod_name, {"running": {"startedAt": started}}, "Running")

    def finish(
        self,
        pod_name: str,
        reason: str = protocol.Reason.COMPLETED,
        result: Any = 1,
        *,
        inline: bool = False,
        log: bool = True,
    ) -> Body:
        """The runner's report: termination message, and the framed result in the log."""
        message: Body = {
            "code": protocol.code_for(reason),
            "reason": reason,
            "message": f"{reason}.",
            "resultSha256": protocol.result_sha256(result),
            "resultBytes": len(protocol.canonical_json(result)),
        }
        if inline:
            message[protocol.TerminationKey.RESULT] = result
        if log:
            self.logs[pod_name] = "a log line\n" + protocol.frame_result(result) + "\n"
        now = format_time(self.clock.now())
        state = {
            "terminated": {
                "exitCode": 0,
                "reason": "Completed",
                "startedAt": now,
                "finishedAt": now,
                "message": json.dumps(message),
            }
        }
        return self.set_container(pod_name, state, "Succeeded")

    def put_foreign(self, kind: str, name: str, namespace: str = "ns") -> None:
        """An object someone else created under a name the operator will want."""
        store = self.pods if kind == "Pod" else self.configmaps
        store[(namespace, name)] = {
            "kind": kind,
            "metadata": {"name": name, "namespace": namespace, "ownerReferences": []},
        }

    def _maybe_fail(self, call: str) -> None:
        self.calls.append(call)
        if call in self.during:
            self.during.pop(call)()
        if self.failures[call] and (failure := self.failures[call].pop(0)) is not None:
            raise failure

    # --- the Cluster interface ---------------------------------------------------------

    def get_execution(self, namespace: str, name: str) -> Body | None:
        self._maybe_fail("get_execution")
        body = self.executions.get((namespace, name))
        return copy.deepcopy(body) if body is not None else None

    def patch_execution_status(self, execution: Body, status: dict[str, Any]) -> Body:
        self._maybe_fail("patch_execution_status")
        meta = execution["metadata"]
        stored = self.executions.get((meta["namespace"], meta["name"]))
        if stored is None:
            raise api_error(404)
        if stored["metadata"]["resourceVersion"] != meta["resourceVersion"]:
            raise api_error(409, "the object has been modified")
        current = copy.deepcopy(stored.get("status") or {})
        _merge(current, status)
        # Like the API server's schema: every status written must fit the model.
        status_model.ExecutionStatus.model_validate(current)
        stored["status"] = current
        stored["metadata"]["resourceVersion"] = self._next_version()
        return copy.deepcopy(stored)

    def delete_execution(self, execution: Body) -> None:
        self._maybe_fail("delete_execution")
        meta = execution["metadata"]
        self.executions.pop((meta["namespace"], meta["name"]), None)
        self.deleted_executions.append(meta["name"])

    def get_pod(self, namespace: str, name: str) -> Body | None:
        self._maybe_fail("get_pod")
        pod = self.pods.get((namespace, name))
        return copy.deepcopy(pod) if pod is not None else None

    def list_executions(self, namespaces: tuple[str, ...]) -> Iterator[Body]:
        self._maybe_fail("list_executions")
        for (namespace, _), body in list(self.executions.items()):
            if not namespaces or namespace in namespaces:
                yield copy.deepcopy(body)

    def configmap_keys(self, namespace: str, name: str) -> frozenset[str] | None:
        self._maybe_fail("configmap_keys")
        found = self.configmaps.get((namespace, name))
        return None if found is None else frozenset(found.get("data") or {})

    def create_if_absent(self, body: Body) -> Body | None:
        self._maybe_fail("create_if_absent")
        return self._create(body)

    def _create(self, body: Body) -> Body | None:
        meta = body["metadata"]
        store = self.pods if body["kind"] == "Pod" else self.configmaps
        key = (meta["namespace"], meta["name"])
        if key in store:
            return None
        stored = copy.deepcopy(body)
        stored["metadata"]["creationTimestamp"] = format_time(self.clock.now())
        stored["metadata"]["resourceVersion"] = self._next_version()
        store[key] = stored
        self.created.append((body["kind"], meta["name"]))
        return copy.deepcopy(stored)

    def create_or_adopt(self, body: Body) -> Body | None:
        self._maybe_fail("create_or_adopt")
        created = self._create(body)
        if created is not None:
            return created
        meta = body["metadata"]
        store = self.pods if body["kind"] == "Pod" else self.configmaps
        key = (meta["namespace"], meta["name"])
        existing = store[key]
        if not naming.controlled_by(existing, meta["ownerReferences"][0]["uid"]):
            raise api_errors.NotOursError(body["kind"], meta["name"])
        if body["kind"] == "Pod" or existing.get("data") == body.get("data"):
            return None
        self.remade.append(meta["name"])  # immutable: deleted and made again
        del store[key]
        return self._create(body)

    def delete_pod(self, namespace: str, name: str, grace_seconds: int | None = None) -> None:
        self._maybe_fail("delete_pod")
        self.deleted_pods.append((name, grace_seconds))
        self.pods.pop((namespace, name), None)

    def read_log_tail(self, namespace: str, name: str, container: str, max_bytes: int) -> str:
        self._maybe_fail("read_log_tail")
        if name not in self.logs:
            raise api_error(404, "not found")
        return self.logs[name][-max_bytes:]

    def post_event(
        self,
        execution: Mapping[str, Any],
        kind: str,
        reason: str,
        message: str,
        at: datetime | None = None,
    ) -> None:
        self.events.append((kind, reason, message))
