"""Writing an Execution's status, with an Event and the metrics on each transition."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from . import metrics, models, status
from .cluster import Cluster
from .echoes import Echoes
from .known import KnownBodies
from .outcomes import Outcome

logger = logging.getLogger(__name__)

Body = dict[str, Any]
EventPoster = Callable[[Mapping[str, Any], str, str, str], None]


class StatusWriter:
    def __init__(
        self, cluster: Cluster, post_event: EventPoster, echoes: Echoes, known: KnownBodies
    ) -> None:
        self._cluster = cluster
        self._post_event = post_event
        self._echoes = echoes
        self._known = known

    def write(self, execution: Body, patch: dict[str, Any], outcome: Outcome) -> Body:
        """Write the status if it changes anything; post an Event on a transition."""
        current = execution.get("status") or {}
        if all(current.get(k) == v for k, v in patch.items()):
            return execution
        written = self.patch(execution, patch)
        meta = execution["metadata"]
        before = (current.get("phase"), current.get("reason"), current.get("attempts"))
        after = (outcome.phase, outcome.reason, patch.get("attempts", current.get("attempts")))
        if before != after:
            # Metrics first: a scrape right after the status shows the outcome should count it.
            if outcome.terminal:
                metrics.set_active(meta["uid"], False)
                metrics.record_outcome(
                    outcome.reason or "", int(patch.get("code") or 0), patch.get("metrics")
                )
            kind = "Warning" if outcome.phase == "Failed" else "Normal"
            self.post(execution, kind, outcome.reason or outcome.phase, outcome.message)
            logger.info(
                "%s/%s: %s %s", meta["namespace"], meta["name"], outcome.phase, outcome.reason or ""
            )
        return written

    def finish(self, execution: Body, outcome: Outcome, now: datetime) -> Body:
        """Write an outcome decided without a pod (it clears the attempt's old fields)."""
        return self.write(execution, status.terminal_status(execution, outcome, now=now), outcome)

    def patch(self, execution: Body, patch: dict[str, Any]) -> Body:
        """Merge-patch the status as is (409 if the Execution changed since read)."""
        written = self._cluster.patch_execution_status(execution, patch)
        self._known.saw(written)
        meta = written["metadata"]
        # A non-terminal write's event tells nothing new; a terminal one's brings the TTL.
        terminal = (written.get("status") or {}).get("phase") in models.TERMINAL_PHASES
        self._echoes.wrote(
            (models.KIND, meta["namespace"], meta["name"]),
            meta["resourceVersion"],
            skippable=not terminal,
        )
        return written

    def post(self, execution: Body, kind: str, reason: str, message: str) -> None:
        try:
            self._post_event(execution, kind, reason, message)
        except Exception:  # an Event is a courtesy; the status is the record
            logger.exception("could not post an event")
