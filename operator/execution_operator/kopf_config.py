"""How the operator sets kopf up: what it watches, how it reconnects, what it skips.

The operator uses kopf for its watches, peering and probes only: its handlers
are `@kopf.on.event` spies that queue (`handlers.py`). So kopf's machinery for
change handlers, which would copy every body of every event, is turned off.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, cast

import kopf

from . import kube, naming

POD_SELECTOR = f"{naming.UID_LABEL},{naming.MANAGED_BY_LABEL}={naming.MANAGED_BY}"
# kopf's worker for an object holds the object's last event (a whole body) while it
# idles; at kopf's 5 s, 5,000 Executions with their pods kept ~2,000 of them alive.
WORKER_IDLE_SECONDS = 0.5


class NoDiffBase(kopf.DiffBaseStorage):
    """kopf's last-handled state, which only change handlers use: none kept, none built.

    kopf builds it for every event of every watched object (a deep copy of the
    body), whether or not a change handler exists; with event handlers only, that
    copy was a sixth of the operator's CPU. Nothing is stored on the objects.
    """

    def build(
        self, *, body: kopf.Body, extra_fields: Iterable[Any] | None = None
    ) -> kopf.BodyEssence:
        return cast(kopf.BodyEssence, {})

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        return None

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        return None


def apply(settings: kopf.OperatorSettings, *, peering: bool, peering_name: str) -> None:
    """kopf's settings for this operator (its own settings are `settings.Settings`)."""
    settings.peering.standalone = not peering
    settings.peering.name = peering_name
    settings.execution.max_workers = kube.WORKERS
    # Our resources are known at start: no cluster-wide CRD watch, which would need a
    # ClusterRole on CRDs (install the CRD before the operator, as the chart does).
    settings.scanning.disabled = True
    # Stalls are noticed: watches end server-side every 5 minutes and client-side soon
    # after; a stream with no event or bookmark for 70 s is reconnected (kopf's default).
    # Only our pods are streamed: memory and traffic follow our work, not the cluster.
    settings.watching.label_selectors["", "v1", "pods"] = POD_SELECTOR
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 10
    settings.networking.connect_timeout = 10
    settings.networking.request_timeout = 30
    # kopf's own Events are for handler errors; the controller posts the transitions.
    settings.posting.level = logging.WARNING
    settings.persistence.diffbase_storage = NoDiffBase()
    settings.queueing.idle_timeout = WORKER_IDLE_SECONDS
