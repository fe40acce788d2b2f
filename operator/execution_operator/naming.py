"""Deterministic names and labels of the objects an Execution owns.

The same Execution uid and attempt always give the same names, so a restarted
operator finds (and adopts) what it created before instead of creating twice.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, Final

from . import models

LABEL_PREFIX: Final = f"{models.GROUP}/"
EXECUTION_LABEL: Final = f"{LABEL_PREFIX}execution"
UID_LABEL: Final = f"{LABEL_PREFIX}uid"
ATTEMPT_LABEL: Final = f"{LABEL_PREFIX}attempt"
GENERATION_ANNOTATION: Final = f"{LABEL_PREFIX}generation"
PAYLOAD_ANNOTATION_PREFIX: Final = f"{LABEL_PREFIX}payload-"  # + a payload file's name
MANAGED_BY_LABEL: Final = "app.kubernetes.io/managed-by"
MANAGED_BY: Final = "execution-operator"
COMPONENT_LABEL: Final = "app.kubernetes.io/component"
COMPONENT: Final = "execution"

MAX_NAME_LENGTH: Final = 63  # a DNS-1123 label: pod hostnames must be one
SHORT_UID_LENGTH: Final = 8
_NOT_DNS: Final = re.compile(r"[^a-z0-9-]+")
_LABEL_VALUE: Final = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def short_uid(uid: str) -> str:
    """The first hex digits of a uid: unique enough among one name's Executions."""
    return uid.replace("-", "").lower()[:SHORT_UID_LENGTH]


def object_name(execution_name: str, uid: str, attempt: int) -> str:
    """`exe-<name prefix>-<short uid>-<attempt>`: the pod's and the payload ConfigMap's name."""
    if attempt < 1:
        raise ValueError(f"attempts count from 1, got {attempt}")
    suffix = f"-{short_uid(uid)}-{attempt}"
    room = MAX_NAME_LENGTH - len("exe-") - len(suffix)
    prefix = _NOT_DNS.sub("-", execution_name.lower())[:room].strip("-")
    return f"exe-{prefix}{suffix}" if prefix else f"exe{suffix}"


def execution_object_name(execution: Mapping[str, Any], attempt: int) -> str:
    """`object_name` of a kopf Execution body."""
    meta = execution["metadata"]
    return object_name(meta["name"], meta["uid"], attempt)


def label_value(text: str) -> str:
    """`text` if it is a valid label value, else a shortened form with a hash of it."""
    if len(text) <= 63 and _LABEL_VALUE.match(text):
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    head = re.sub(r"[^A-Za-z0-9_.-]+", "-", text)[:52].strip("-_.")
    return f"{head}-{digest}" if head else digest


def owned_labels(execution: Mapping[str, Any], attempt: int) -> dict[str, str]:
    """Labels of every object an Execution's attempt owns (selectable by the handler)."""
    meta = execution["metadata"]
    return {
        MANAGED_BY_LABEL: MANAGED_BY,
        COMPONENT_LABEL: COMPONENT,
        EXECUTION_LABEL: label_value(meta["name"]),
        UID_LABEL: meta["uid"],
        ATTEMPT_LABEL: str(attempt),
    }


def selector_for(execution: Mapping[str, Any]) -> str:
    """Label selector of all objects (of every attempt) of one Execution."""
    return f"{UID_LABEL}={execution['metadata']['uid']}"


def controlled_by(obj: Mapping[str, Any], uid: str) -> bool:
    """Whether `obj` is the Execution's of `uid`: its controller owner has that uid.

    Anyone who may create pods or ConfigMaps in the namespace can predict our names
    and copy our labels; only the owner reference says who made an object.
    """
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return any(ref.get("controller") and ref.get("uid") == uid for ref in refs)


def owner_reference(execution: Mapping[str, Any]) -> dict[str, Any]:
    """Owner reference that makes the garbage collector delete the object with the Execution."""
    meta = execution["metadata"]
    return {
        "apiVersion": models.API_VERSION,
        "kind": models.KIND,
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
