"""`python -m execution_operator` / `execution-operator`: run the operator."""

from __future__ import annotations

import logging
import os
import sys
import threading

import kopf

from . import memory
from .settings import load_settings

# The API server accepts JSON nested thousands of levels deep, and decoding it
# (kopf's watch, json, pydantic) recurses once per level: with Python's default
# limit of 1,000, one such Execution stopped the operator for every namespace.
# Validation then refuses anything deeper than validation.MAX_INPUT_DEPTH.
RECURSION_LIMIT = 50_000
THREAD_STACK_BYTES = 256 * 1024 * 1024
KOPF_OBJECTS_LOGGER = "kopf.objects"


def main() -> None:
    settings = load_settings(os.environ)
    sys.setrecursionlimit(RECURSION_LIMIT)
    # Room for that many C frames in worker threads (virtual memory, touched only when used).
    threading.stack_size(THREAD_STACK_BYTES)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # kopf logs "Handler ... succeeded." for every watch event (about seven per Execution),
    # formatted and written under the logging lock; the operator logs what it does itself.
    logging.getLogger(KOPF_OBJECTS_LOGGER).setLevel(logging.WARNING)
    from . import handlers  # noqa: PLC0415 - registering the handlers is the import

    memory.install()
    memory.Trimmer().start()

    kopf.run(
        clusterwide=not settings.namespaces,
        namespaces=list(settings.namespaces),
        standalone=not settings.peering,
        priority=settings.peering_priority,
        # A name makes kopf insist on the peering CRD; give it only when peering is on.
        peering_name=settings.peering_name if settings.peering else None,
        memo=kopf.Memo({handlers.SETTINGS: settings}),
        liveness_endpoint=(
            f"http://{settings.listen_address}:{settings.liveness_port}/healthz"
            if settings.liveness_port
            else None
        ),
    )


if __name__ == "__main__":
    main()
