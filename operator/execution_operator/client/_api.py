"""The Kubernetes calls of the client: Executions, their env Secrets, pod logs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from .. import models
from ._connection import Connection
from .errors import ExecutionNotFound

Body = dict[str, Any]
_CRD = (models.GROUP, models.VERSION)


class ExecutionsApi:
    """Calls in one namespace; dict bodies in and out."""

    def __init__(self, connection: Connection):
        self.api = connection.api
        self.namespace = connection.namespace
        # Typed as Any: the generated client takes and returns plain dicts where it says models.
        self._custom: Any = client.CustomObjectsApi(self.api)
        self._core: Any = client.CoreV1Api(self.api)

    def create(self, body: Mapping[str, Any]) -> Body:
        created: Body = self._custom.create_namespaced_custom_object(
            *_CRD, self.namespace, models.PLURAL, body
        )
        return created

    def get(self, name: str) -> Body:
        try:
            body: Body = self._custom.get_namespaced_custom_object(
                *_CRD, self.namespace, models.PLURAL, name
            )
        except ApiException as exc:
            if exc.status == 404:
                raise self._not_found(name) from None
            raise
        return body

    def list(self, label_selector: str | None = None) -> list[Body]:
        listed = self._custom.list_namespaced_custom_object(
            *_CRD, self.namespace, models.PLURAL, label_selector=label_selector or ""
        )
        return list(listed.get("items") or [])

    def cancel(self, name: str) -> None:
        try:
            self._custom.patch_namespaced_custom_object(
                *_CRD, self.namespace, models.PLURAL, name, {"spec": {"cancel": True}}
            )
        except ApiException as exc:
            if exc.status == 404:
                raise self._not_found(name) from None
            raise

    def delete(self, name: str) -> bool:
        """False when it was already gone."""
        try:
            self._custom.delete_namespaced_custom_object(
                *_CRD, self.namespace, models.PLURAL, name, propagation_policy="Background"
            )
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def _not_found(self, name: str) -> ExecutionNotFound:
        return ExecutionNotFound(f"Execution {self.namespace}/{name} does not exist")

    def create_secret(self, body: Mapping[str, Any]) -> None:
        self._core.create_namespaced_secret(self.namespace, body)

    def own_secret(self, name: str, owner_patch: Mapping[str, Any]) -> None:
        self._core.patch_namespaced_secret(name, self.namespace, owner_patch)

    def delete_secret(self, name: str) -> bool:
        try:
            self._core.delete_namespaced_secret(name, self.namespace)
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def pod_log(self, pod: str) -> str:
        text: str = self._core.read_namespaced_pod_log(pod, self.namespace)
        return text

    def follow_pod_log(self, pod: str) -> Iterator[str]:
        """Lines of the pod's log as they are written, until the container ends."""
        try:
            response = self._core.read_namespaced_pod_log(
                pod, self.namespace, follow=True, _preload_content=False
            )
        except ApiException as exc:
            if exc.status in (400, 404):  # the container never started, or the pod is gone
                return
            raise
        try:
            pending = b""
            for chunk in response.stream(4096):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    yield line.decode("utf-8", "replace")
            if pending:
                yield pending.decode("utf-8", "replace")
        finally:
            response.release_conn()
