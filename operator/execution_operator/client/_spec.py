"""Pure builders: an Execution and its env Secret from the executor's arguments."""

from __future__ import annotations

import math
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypedDict

from execution_runner import protocol

from .. import models

Body = dict[str, Any]

CLIENT_LABEL: Final = "execution-operator.io/client"
ENV_SECRET_LABEL: Final = "execution-operator.io/env-of"  # noqa: S105 - a label key
_ENV_NAME: Final = re.compile(models.ENV_NAME_PATTERN)
_NAME_PREFIX: Final = re.compile(r"^[a-z0-9]([-a-z0-9]{0,28}[a-z0-9])?$")


@dataclass(frozen=True)
class RunRequest:
    """Everything one run needs, as the caller gave it."""

    code: str
    data: Any = None
    env_vars: Mapping[str, str] = field(default_factory=dict)
    env_from_secrets: Sequence[str] = ()
    timeout_secs: float | None = None
    payload_type: str | None = None
    optimization_id: str | None = None
    job_id: str | None = None
    name: str | None = None


class RunOptions(TypedDict, total=False):
    """The keyword arguments of execute() and aexecute(), as submit() takes them."""

    file_path: str | os.PathLike[str] | None
    timeout_secs: float | None
    payload_type: str | None
    optimization_id: str | None
    job_id: str | None
    env_from_secrets: Sequence[str]
    name: str | None


def load_code(code: str | None, file_path: str | os.PathLike[str] | None) -> str:
    """The source to run: `file_path`'s text, or `code` (a path to a .py file is read too).

    The in-process executor treated an existing `*.py` path given as `code` as a file;
    so does this.
    """
    if file_path is not None:
        if code is not None:
            raise ValueError("give either code or file_path, not both")
        return Path(file_path).read_text(encoding="utf-8")
    if code is None:
        raise ValueError("code or file_path is required")
    if code.endswith(".py") and "\n" not in code and Path(code).is_file():
        return Path(code).read_text(encoding="utf-8")
    return code


def check_env_names(names: Sequence[str]) -> None:
    """Refuse names the runner would refuse, before anything is created."""
    for name in names:
        if not _ENV_NAME.match(name):
            raise ValueError(f"env_vars: {name!r} is not a valid variable name")
        if protocol.env_name_reserved(name):
            raise ValueError(
                f"env_vars: {name!r} is reserved (names starting with "
                f"{', '.join(protocol.RESERVED_ENV_PREFIXES)} cannot be set)"
            )


def new_name(prefix: str) -> str:
    if not _NAME_PREFIX.match(prefix):
        raise ValueError(f"name prefix {prefix!r}: lowercase letters, digits and '-', ≤ 30")
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def env_secret_name(execution_name: str) -> str:
    return f"{execution_name}-env"


def execution_body(
    request: RunRequest,
    name: str,
    *,
    client_id: str,
    default_timeout_secs: float,
    logs: Mapping[str, Any],
    extra_spec: Mapping[str, Any] | None = None,
) -> Body:
    """The Execution: env values only by reference to the per-run Secret."""
    timeout = request.timeout_secs or default_timeout_secs
    spec: Body = {
        "code": request.code,
        "input": {} if request.data is None else request.data,
        protocol.RunnerConfigKey.TIMEOUT_SECONDS: max(1, math.ceil(timeout)),
    }
    if request.payload_type is not None:
        spec["payloadType"] = request.payload_type
    if request.env_vars:
        secret = env_secret_name(name)
        spec["env"] = [
            {"name": key, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
            for key in sorted(request.env_vars)
        ]
    if request.env_from_secrets:
        spec["envFrom"] = [{"secretRef": {"name": s}} for s in request.env_from_secrets]
    attributes = {
        key: value
        for key, value in (("optimization_id", request.optimization_id), ("job_id", request.job_id))
        if value
    }
    logs_spec = dict(logs)
    if attributes:
        logs_spec["attributes"] = {**logs_spec.get("attributes", {}), **attributes}
    if logs_spec:
        spec["logs"] = logs_spec
    spec.update(extra_spec or {})
    return {
        "apiVersion": models.API_VERSION,
        "kind": models.KIND,
        "metadata": {"name": name, "labels": {CLIENT_LABEL: client_id}},
        "spec": spec,
    }


def env_secret_body(execution_name: str, env_vars: Mapping[str, str], client_id: str) -> Body:
    """The per-run Secret holding the env values (owned by the Execution once it exists)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": env_secret_name(execution_name),
            "labels": {CLIENT_LABEL: client_id, ENV_SECRET_LABEL: execution_name},
        },
        "type": "Opaque",
        "stringData": {key: str(value) for key, value in env_vars.items()},
    }


def owner_patch(execution: Mapping[str, Any]) -> Body:
    """Makes the Secret a dependent of the Execution: deleted with it by the garbage collector."""
    meta = execution["metadata"]
    return {
        "metadata": {
            "ownerReferences": [
                {
                    "apiVersion": models.API_VERSION,
                    "kind": models.KIND,
                    "name": meta["name"],
                    "uid": meta["uid"],
                }
            ]
        }
    }
