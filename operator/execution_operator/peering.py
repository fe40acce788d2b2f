"""The peering object(s) kopf's replicas meet in: created once, at start-up.

kopf only patches them; with peering on, each replica creates them if missing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from kubernetes.client.exceptions import ApiException

from .kube import custom_api

Body = dict[str, Any]

PEERING_GROUP, PEERING_VERSION = "kopf.dev", "v1"


def ensure_peering_objects(name: str, namespaces: tuple[str, ...]) -> None:
    """The peering object(s) kopf's replicas meet in (kopf only patches them)."""
    body = {"apiVersion": f"{PEERING_GROUP}/{PEERING_VERSION}", "metadata": {"name": name}}
    if not namespaces:
        _exists_ok(
            lambda: custom_api().create_cluster_custom_object(
                PEERING_GROUP,
                PEERING_VERSION,
                "clusterkopfpeerings",
                {**body, "kind": "ClusterKopfPeering"},
            )
        )
    for namespace in namespaces:
        if "*" in namespace or namespace.startswith("!"):
            continue  # a pattern: its namespaces need their KopfPeering made beforehand
        _exists_ok(partial(_create_kopf_peering, namespace, {**body, "kind": "KopfPeering"}))


def _create_kopf_peering(namespace: str, body: Body) -> object:
    return custom_api().create_namespaced_custom_object(
        PEERING_GROUP, PEERING_VERSION, namespace, "kopfpeerings", body
    )


def _exists_ok(create: Callable[[], object]) -> None:
    try:
        create()
    except ApiException as exc:
        if exc.status != 409:
            raise
