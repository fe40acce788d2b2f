"""Credentials and namespace, chosen the way kubectl chooses them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from kubernetes import client, config

from .errors import ClientError

SERVICE_ACCOUNT_NAMESPACE: Final = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
# Concurrent waits each hold a watch connection; the library's default pool is 4.
POOL_SIZE: Final = 64


@dataclass(frozen=True)
class Connection:
    api: client.ApiClient
    namespace: str


def connect(
    kubeconfig: str | None = None, context: str | None = None, namespace: str | None = None
) -> Connection:
    """The kubeconfig's current (or given) context and its namespace; in a pod, its account."""
    configuration = client.Configuration()
    loader: Any = config  # the loaders are untyped
    # Read now: the library reads $KUBECONFIG once, when it is imported.
    kubeconfig = kubeconfig or os.environ.get("KUBECONFIG") or None
    try:
        loader.load_kube_config(
            config_file=kubeconfig,
            context=context,
            client_configuration=configuration,
            persist_config=False,
        )
        default_namespace = _context_namespace(kubeconfig, context)
    except config.ConfigException as no_kubeconfig:
        if kubeconfig or context:
            raise
        try:
            loader.load_incluster_config(client_configuration=configuration)
        except config.ConfigException as not_in_pod:
            raise ClientError(
                f"no cluster credentials: {no_kubeconfig}; not in a pod either ({not_in_pod})"
            ) from None
        default_namespace = _service_account_namespace()
    configuration.connection_pool_maxsize = POOL_SIZE
    return Connection(client.ApiClient(configuration), namespace or default_namespace)


def _context_namespace(kubeconfig: str | None, context: str | None) -> str:
    loader: Any = config  # untyped
    contexts, active = loader.list_kube_config_contexts(config_file=kubeconfig)
    chosen = next((c for c in contexts if c["name"] == context), active) if context else active
    return str((chosen or {}).get("context", {}).get("namespace") or "default")


def _service_account_namespace() -> str:
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or "default"
    except OSError:
        return "default"
