"""The objects of one attempt of an Execution, as plain dicts (no API calls).

Per attempt: a Pod, owned by the Execution and named from its uid and the
attempt number, with the payload (code.py, input.json, runner.json) mounted
read-only. A small payload travels in the pod's own annotations and reaches the
files through the downward API; a larger one goes in a ConfigMap of the same
name and owner. `codeFrom`/`inputFrom` keys are projected into the same payload
volume straight from the user's ConfigMaps: the operator never uses their data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from execution_runner import protocol

from . import models, naming, policy
from .api_types import ApiModel
from .pod_model import PodTemplate
from .quantity import quantity_to_int
from .settings import Settings

CONTAINER_NAME: Final = "runner"
PAYLOAD_VOLUME: Final = "payload"
TMP_VOLUME: Final = "tmp"
READ_ONLY_MODE: Final = 0o444
LOGS_API_KEY_KEY: Final = "apiKey"
LOGS_WORKSPACE_KEY: Final = "workspace"
# What the API server takes of one object's annotations, keys and values together.
MAX_ANNOTATIONS_BYTES: Final = 256 * 1024

Body = Mapping[str, Any]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _optional_int(value: int | str | None) -> int | None:
    return None if value is None else quantity_to_int(value)


def logs_endpoint(spec: models.ExecutionSpec, settings: Settings) -> str | None:
    """Where the runner ships logs, or None when shipping is off."""
    if not spec.logs.enabled:
        return None
    return spec.logs.endpoint or settings.log_endpoint or None


def build_runner_config(
    execution: Body, spec: models.ExecutionSpec, attempt: int, settings: Settings
) -> protocol.RunnerConfigDoc:
    """runner.json: everything the runner needs besides the code and the input."""
    meta = execution["metadata"]
    rl = spec.rlimits
    memory = rl.memory if rl.memory is not None else (settings.default_memory_rlimit or None)
    env = spec.env or []
    endpoint = logs_endpoint(spec, settings)
    return protocol.RunnerConfigDoc(
        timeoutSeconds=spec.timeout_seconds,
        rlimits=protocol.RlimitsDoc(
            stack=quantity_to_int(rl.stack),
            memory=_optional_int(memory),
            cpuSeconds=rl.cpu_seconds,
            openFiles=rl.open_files,
            processes=rl.processes,
            fileSize=_optional_int(rl.file_size),
        ),
        threads=spec.threads,
        env=[var.name for var in env],
        secretEnv=[var.name for var in env if var.value_from and var.value_from.secret_key_ref],
        # The runner passes `<prefix>NAME` on as NAME, in this order, before `env`.
        envFrom=[
            protocol.EnvFromDoc(
                prefix=protocol.env_from_prefix(i), secret=source.secret_ref is not None
            )
            for i, source in enumerate(spec.env_from or [])
        ],
        logs=protocol.LogsDoc(
            enabled=endpoint is not None,
            endpoint=endpoint,
            attributes=dict(spec.logs.attributes or {}),
            flushIntervalMillis=spec.logs.flush_interval_millis,
            maxBatchBytes=quantity_to_int(spec.logs.max_batch_bytes),
            overflow=spec.logs.overflow,
        ),
        maxResultBytes=settings.max_result_bytes,
        requireResult=False,
        execution=protocol.ExecutionDoc(
            namespace=meta.get("namespace"),
            name=meta["name"],
            uid=meta["uid"],
            attempt=attempt,
        ),
    )


def _own_annotations(execution: Body) -> dict[str, str]:
    return {naming.GENERATION_ANNOTATION: str(execution["metadata"].get("generation", 1))}


def _object_meta(execution: Body, attempt: int) -> dict[str, Any]:
    return {
        "name": naming.execution_object_name(execution, attempt),
        "namespace": execution["metadata"].get("namespace"),
        "labels": naming.owned_labels(execution, attempt),
        "annotations": _own_annotations(execution),
        "ownerReferences": [naming.owner_reference(execution)],
    }


@dataclass(frozen=True)
class Payload:
    """The payload files of one attempt, and whether they travel in the pod itself."""

    files: Mapping[str, str]
    inline: bool

    @property
    def annotations(self) -> dict[str, str]:
        """The pod annotations that carry the files when inline."""
        return {naming.PAYLOAD_ANNOTATION_PREFIX + name: text for name, text in self.files.items()}


def _annotations_bytes(annotations: Mapping[str, str]) -> int:
    """Their size as the API server counts it against its limit."""
    return sum(len(key.encode()) + len(value.encode()) for key, value in annotations.items())


def build_payload(
    execution: Body, spec: models.ExecutionSpec, attempt: int, settings: Settings
) -> Payload:
    """The attempt's payload files, inline in the pod when small enough.

    Inline spares an API write, the kubelet's fetch and watch of a ConfigMap
    before the pod can start, and the ConfigMap's collection afterwards.
    """
    files: dict[str, str] = {
        protocol.RUNNER_CONFIG_FILE: _json(build_runner_config(execution, spec, attempt, settings))
    }
    if spec.code is not None:
        files[protocol.CODE_FILE] = spec.code
    if spec.input_from is None:
        files[protocol.INPUT_FILE] = _json({"data": spec.input, "payload_type": spec.payload_type})
    else:  # the data itself is projected as input-data.json
        files[protocol.INPUT_FILE] = _json({"payload_type": spec.payload_type})
    carried = _annotations_bytes(Payload(files, inline=True).annotations)
    template = spec.pod_template
    user = (template.annotations if template else None) or {}
    others = _annotations_bytes({**user, **_own_annotations(execution)})
    inline = carried <= settings.inline_payload_max_bytes and (
        carried + others <= MAX_ANNOTATIONS_BYTES
    )
    return Payload(files, inline)


def build_payload_configmap(execution: Body, payload: Payload, attempt: int) -> dict[str, Any]:
    """The attempt's payload ConfigMap (immutable: the kubelet need not watch it)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _object_meta(execution, attempt),
        "immutable": True,
        "data": dict(payload.files),
    }


def _payload_volume(
    spec: models.ExecutionSpec, payload: Payload, configmap_name: str
) -> dict[str, Any]:
    sources: list[dict[str, Any]]
    if payload.inline:
        items = [
            {"path": name, "fieldRef": {"fieldPath": f"metadata.annotations['{key}']"}}
            for name, key in zip(payload.files, payload.annotations, strict=True)
        ]
        sources = [{"downwardAPI": {"items": items}}]
    else:
        sources = [{"configMap": {"name": configmap_name}}]
    projected = (
        (spec.code_from, protocol.CODE_FILE),
        (spec.input_from, protocol.INPUT_DATA_FILE),
    )
    for source, path in projected:
        if source is not None:
            ref = source.config_map_key_ref
            sources.append(
                {"configMap": {"name": ref.name, "items": [{"key": ref.key, "path": path}]}}
            )
    return {
        "name": PAYLOAD_VOLUME,
        "projected": {"sources": sources, "defaultMode": READ_ONLY_MODE},
    }


def _dump(model: ApiModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def _env_from(spec: models.ExecutionSpec) -> list[dict[str, Any]]:
    result = []
    for i, source in enumerate(spec.env_from or []):
        entry = _dump(source)
        # The marker lets the runner tell these names apart and strip it again.
        entry["prefix"] = protocol.env_from_prefix(i) + (source.prefix or "")
        result.append(entry)
    return result


def _user_env(spec: models.ExecutionSpec) -> list[dict[str, Any]]:
    """`spec.env` under the runner's marker: only the child sees the plain names."""
    env = []
    for var in spec.env or []:
        entry = _dump(var)
        entry["name"] = protocol.env_marker_name(var.name)
        env.append(entry)
    return env


def _runner_env(spec: models.ExecutionSpec, settings: Settings) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        {
            "name": protocol.POD_NAME_ENV,
            "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
        },
        {
            "name": protocol.NODE_NAME_ENV,
            "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}},
        },
    ]
    secret = spec.logs.credentials_secret_ref
    if logs_endpoint(spec, settings) is not None and secret is not None:
        for name, key, optional in (
            (protocol.LOGS_API_KEY_ENV, LOGS_API_KEY_KEY, False),
            (protocol.LOGS_WORKSPACE_ENV, LOGS_WORKSPACE_KEY, True),
        ):
            ref = {"name": secret.name, "key": key, "optional": optional}
            env.append({"name": name, "valueFrom": {"secretKeyRef": ref}})
    return env


def active_deadline_seconds(spec: models.ExecutionSpec, settings: Settings) -> int:
    """The kubelet's backstop: start deadline + run time + the runner's grace to stop."""
    return spec.start_deadline_seconds + spec.timeout_seconds + settings.termination_grace_seconds


def _container(spec: models.ExecutionSpec, settings: Settings) -> dict[str, Any]:
    return {
        "name": CONTAINER_NAME,
        "image": spec.image or settings.runner_image,
        "imagePullPolicy": settings.image_pull_policy,
        "command": list(protocol.RUNNER_COMMAND),
        # Runner variables come last: `$(VAR)` in a user value cannot expand to them.
        "env": _user_env(spec) + _runner_env(spec, settings),
        "envFrom": _env_from(spec),
        "resources": _dump(spec.resources) if spec.resources else settings.default_resources,
        "volumeMounts": [
            {"name": PAYLOAD_VOLUME, "mountPath": protocol.DEFAULT_PAYLOAD_DIR, "readOnly": True},
            {"name": TMP_VOLUME, "mountPath": "/tmp"},  # noqa: S108 - the pod's own emptyDir
        ],
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
        },
        "terminationMessagePath": protocol.DEFAULT_TERMINATION_LOG,
        "terminationMessagePolicy": "File",
    }


def _template_fields(template: PodTemplate | None) -> dict[str, Any]:
    if template is None:
        return {}
    fields = _dump(template)
    fields.pop("labels", None)
    fields.pop("annotations", None)
    return fields


def build_pod(
    execution: Body,
    spec: models.ExecutionSpec,
    attempt: int,
    settings: Settings,
    payload: Payload,
) -> dict[str, Any]:
    """The attempt's pod: the runner image, locked down, with the payload mounted.

    `execution` gives the names and owner; `spec` is its spec as the step parsed it;
    `payload` is `build_payload()`'s for the same attempt.
    """
    meta = _object_meta(execution, attempt)
    run_as = policy.run_as_id(execution["metadata"]["uid"], attempt, settings)
    template = spec.pod_template
    if template is not None:
        # The operator's own labels and annotations win over the user's.
        meta["labels"] = {**(template.labels or {}), **meta["labels"]}
        meta["annotations"] = {**(template.annotations or {}), **meta["annotations"]}
    if payload.inline:
        meta["annotations"].update(payload.annotations)
    pod_spec: dict[str, Any] = {
        **_template_fields(template),
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "activeDeadlineSeconds": active_deadline_seconds(spec, settings),
        "terminationGracePeriodSeconds": settings.termination_grace_seconds,
        "securityContext": {
            "runAsNonRoot": True,
            # Its own ids per attempt: RLIMIT_NPROC and /proc are then per run.
            "runAsUser": run_as,
            "runAsGroup": run_as,
            "fsGroup": run_as,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [_container(spec, settings)],
        "volumes": [
            _payload_volume(spec, payload, meta["name"]),
            {"name": TMP_VOLUME, "emptyDir": {"sizeLimit": settings.tmp_size_limit}},
        ],
    }
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod_spec}
