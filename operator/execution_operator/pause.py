"""Whether kopf's peering has paused this replica, for the threads kopf does not run.

kopf pauses its watches when a replica of higher (or equal) priority is alive,
but keeps no public flag for other threads; the wake-up thread must stop acting
too, or a paused replica would still run deadlines, TTLs and retries. kopf
announces every pause and resume through its peering logger, once per peering
object (one cluster-wide, or one per namespace): this counts them.
"""

from __future__ import annotations

import logging
import threading
from typing import Final

KOPF_PEERING_LOGGER: Final = "kopf._core.engines.peering"
# The openings of kopf's own announcements (kopf/_core/engines/peering.py).
PAUSING: Final = ("Pausing operations in favour of", "Pausing all operators, including self")
RESUMING: Final = ("Resuming operations after the pause",)


class PeeringPause(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self._paused = 0  # peering objects in which this replica is paused
        self._guard = threading.Lock()

    def install(self) -> PeeringPause:
        logger = logging.getLogger(KOPF_PEERING_LOGGER)
        logger.addHandler(self)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)  # the announcements are INFO
        return self

    def uninstall(self) -> None:
        logging.getLogger(KOPF_PEERING_LOGGER).removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        with self._guard:
            if message.startswith(PAUSING):
                self._paused += 1
            elif message.startswith(RESUMING):
                self._paused = max(0, self._paused - 1)

    def __call__(self) -> bool:
        """True while kopf has this replica paused."""
        with self._guard:
            return self._paused > 0
