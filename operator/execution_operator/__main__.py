"""`python -m execution_operator` / `execution-operator`: run the operator."""

from __future__ import annotations

import logging
import os

import kopf

from .settings import load_settings


def main() -> None:
    settings = load_settings(os.environ)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from . import handlers  # noqa: F401, PLC0415 - registering the handlers is the import

    kopf.run(
        clusterwide=not settings.namespaces,
        namespaces=list(settings.namespaces),
        standalone=not settings.peering,
        priority=settings.peering_priority,
        # A name makes kopf insist on the peering CRD; give it only when peering is on.
        peering_name=settings.peering_name if settings.peering else None,
        liveness_endpoint=(
            f"http://{settings.listen_address}:{settings.liveness_port}/healthz"
            if settings.liveness_port
            else None
        ),
    )


if __name__ == "__main__":
    main()
