"""The cluster admin's rules over what an Execution may ask for.

Validation (validation.py) checks that a spec is well-formed; the policy checks
that it is *allowed* here: which runner images may receive the run's Secrets and
log credentials, which node taints its pod may tolerate, and which uid each run
gets. Every rule comes from an operator setting, so the admin sets it once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

from . import models
from .pod_model import Toleration
from .settings import Settings


def image_repository(image: str) -> str:
    """`registry/path/name` of an image reference, without tag or digest."""
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    # A colon after the last slash starts the tag; before it, it is a registry port.
    return name[:colon] if colon > slash else name


def allowed_repositories(settings: Settings) -> tuple[str, ...]:
    """The admin's list, or else the repository of the configured runner image."""
    return settings.allowed_images or (image_repository(settings.runner_image),)


def image_allowed(image: str, allowed: Sequence[str]) -> bool:
    """Whether `image` comes from an allowed repository.

    An entry matches its repository exactly (`repo`, `repo:tag`, `repo@sha256:…`);
    an entry ending in `/` matches every repository below that path. No other
    prefix matches, so `example/runner` does not allow `example/runner-evil`.
    """
    repository = image_repository(image)
    return any(
        repository.startswith(entry) if entry.endswith("/") else repository == entry
        for entry in allowed
    )


def run_as_id(uid: str, attempt: int, settings: Settings) -> int:
    """The pod's uid and gid: one per attempt, spread over the admin's range.

    Processes of different runs then never share RLIMIT_NPROC or /proc.
    """
    digest = hashlib.sha256(f"{uid}/{attempt}".encode()).digest()
    offset = int.from_bytes(digest[:8], "big") % settings.run_as_id_count
    return settings.run_as_id_start + offset


def policy_errors(spec: models.ExecutionSpec, settings: Settings) -> Iterator[str]:
    """What the spec asks for that this cluster's policy refuses, each naming its field."""
    if spec.image is not None:
        allowed = allowed_repositories(settings)
        if not image_allowed(spec.image, allowed):
            yield (
                f"spec.image: {spec.image!r} is not an allowed runner image "
                f"(allowed repositories: {', '.join(allowed)}); ask the cluster admin"
            )
    template = spec.pod_template
    for i, toleration in enumerate((template.tolerations if template else None) or []):
        problem = _toleration_problem(toleration, settings.denied_toleration_keys)
        if problem:
            yield f"spec.podTemplate.tolerations[{i}]: {problem}"


def _toleration_problem(toleration: Toleration, denied: Sequence[str]) -> str | None:
    if not toleration.key:
        if toleration.operator == "Exists":
            return "an empty key with operator Exists tolerates every taint; name the taint"
        return "key is required"
    if toleration.key in denied:
        return (
            f"tolerating {toleration.key!r} is not allowed here "
            "(it keeps pods off control-plane and failing nodes)"
        )
    return None
