"""The rules the CRD schema cannot express (Kubernetes 1.20 has no CEL).

An Execution that breaks one fails as InvalidSpec before any pod exists; every
error names the field, e.g. `spec.codeFrom: set exactly one of ...`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

import pydantic
from execution_runner import protocol

from . import models, naming
from .api_types import DNS_SUBDOMAIN_PATTERN
from .quantity import parse_quantity

logger = logging.getLogger(__name__)

# Names the runner sets for the child itself (baseline and thread caps); the rest of the
# reserved names (PYTHON*, LD_*, EXECUTION_*, KUBERNETES_*) come from the protocol.
RUNNER_SET_ENV_NAMES: Final = frozenset({*protocol.BASELINE_ENV_DEFAULTS, *protocol.THREAD_CAP_ENV})
RESERVED_HINT: Final = (
    "names starting with "
    + ", ".join(f"{prefix}*" for prefix in protocol.RESERVED_ENV_PREFIXES)
    + " steer the interpreter or belong to the runner; choose another name"
)
# Deeper `input` is refused before anything recurses through it; real inputs are shallow.
MAX_INPUT_DEPTH: Final = 100
# A ConfigMap holds 1 MiB; runner.json needs a little of it.
MAX_PAYLOAD_BYTES: Final = 1024 * 1024 - 64 * 1024
# Below these the Python interpreter itself cannot start.
MIN_MEMORY_RLIMIT: Final = 32 * 1024 * 1024
MIN_STACK_RLIMIT: Final = 64 * 1024
# setrlimit takes a C long: a larger value cannot be applied at all.
MAX_RLIMIT: Final = 2**63 - 1
MAX_BATCH_BYTES_RANGE: Final = (1024, 64 * 1024 * 1024)
RESOURCE_NAMES: Final = frozenset({"cpu", "memory", "ephemeral-storage"})

_LABEL_NAME: Final = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_SUBDOMAIN: Final = re.compile(DNS_SUBDOMAIN_PATTERN)
_LABEL_VALUE: Final = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


class InvalidSpecError(ValueError):
    """The Execution's spec cannot run; `errors` name each offending field."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = tuple(errors)


def parse_spec(execution: Mapping[str, Any]) -> models.ExecutionSpec:
    """The typed spec of a kopf Execution body; raises InvalidSpecError."""
    spec, errors = _parse(execution.get("spec"))
    if spec is None or errors:
        raise InvalidSpecError(errors)
    return spec


def validate_execution(execution: Mapping[str, Any]) -> list[str]:
    """Every error of the Execution's spec, each naming its field; empty when valid."""
    return _parse(execution.get("spec"))[1]


def _parse(raw: Any) -> tuple[models.ExecutionSpec | None, list[str]]:
    if not isinstance(raw, Mapping):
        return None, ["spec: required (an object)"]
    depth = json_depth(raw.get("input"))
    if depth > MAX_INPUT_DEPTH:  # checked before parsing, which walks the input recursively
        return None, [
            f"spec.input: nested {depth} levels deep, more than the {MAX_INPUT_DEPTH} allowed; "
            "flatten it or pass it as JSON text through spec.inputFrom"
        ]
    try:
        spec = models.ExecutionSpec.model_validate(raw)
    except pydantic.ValidationError as exc:
        unknown = [e["loc"] for e in exc.errors() if e["type"] == "extra_forbidden"]
        if len(unknown) < len(exc.errors()):
            return None, _schema_errors(exc)
        # The API server prunes fields its CRD does not know, so these come from a newer
        # CRD than this operator: ignore them rather than fail runs that were valid.
        logger.warning("ignoring fields unknown to this operator: %s", _paths(unknown))
        return _parse(_without(raw, unknown))
    return spec, list(_rule_errors(spec))


def _paths(locations: list[tuple[str | int, ...]]) -> str:
    return ", ".join(_path(("spec", *loc)) for loc in locations)


def _without(raw: Mapping[str, Any], locations: list[tuple[str | int, ...]]) -> dict[str, Any]:
    """A deep copy of `raw` without the keys at `locations`."""
    copy: dict[str, Any] = json.loads(json.dumps(raw))
    for loc in locations:
        node: Any = copy
        for part in loc[:-1]:
            node = node[part]
        node.pop(loc[-1], None)
    return copy


def _schema_errors(exc: pydantic.ValidationError) -> list[str]:
    errors: list[str] = []
    for err in exc.errors():
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        line = f"{_path(('spec', *err['loc']))}: {message}"
        if line not in errors:
            errors.append(line)
    return errors


def _path(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def json_depth(value: Any) -> int:
    """How deeply `value` nests lists and objects, without recursing."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, Mapping):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return deepest


def _rule_errors(spec: models.ExecutionSpec) -> Iterator[str]:
    yield from _source_errors(spec)
    yield from _env_errors(spec)
    yield from _env_from_errors(spec)
    yield from _rlimit_errors(spec)
    yield from _resource_errors(spec)
    yield from _logs_errors(spec)
    yield from _pod_template_errors(spec)
    yield from _payload_size_errors(spec)


def _source_errors(spec: models.ExecutionSpec) -> Iterator[str]:
    if spec.code is None and spec.code_from is None:
        yield "spec.code: set exactly one of spec.code and spec.codeFrom (neither is set)"
    elif spec.code is not None and spec.code_from is not None:
        yield "spec.codeFrom: set exactly one of spec.code and spec.codeFrom (both are set)"
    # The API server defaults input to {}, so only a non-empty input conflicts.
    if spec.input_from is not None and spec.input not in ({}, None):
        yield "spec.inputFrom: set at most one of spec.input and spec.inputFrom (both are set)"


def _reserved_env_name(name: str) -> bool:
    return name in RUNNER_SET_ENV_NAMES or protocol.env_name_reserved(name)


def _env_errors(spec: models.ExecutionSpec) -> Iterator[str]:
    first_index: dict[str, int] = {}
    for i, var in enumerate(spec.env or []):
        where = f"spec.env[{i}]"
        if var.name in first_index:
            first = first_index[var.name]
            yield f"{where}.name: duplicate name {var.name!r} (also spec.env[{first}])"
        first_index.setdefault(var.name, i)
        if _reserved_env_name(var.name):
            yield f"{where}.name: {var.name!r} is reserved for the runner; {RESERVED_HINT}"
        if var.value is not None and var.value_from is not None:
            yield f"{where}.valueFrom: set value or valueFrom, not both"
        source = var.value_from
        if source is not None and (source.secret_key_ref is None) == (
            source.config_map_key_ref is None
        ):
            yield f"{where}.valueFrom: set exactly one of secretKeyRef and configMapKeyRef"


def _env_from_errors(spec: models.ExecutionSpec) -> Iterator[str]:
    for i, source in enumerate(spec.env_from or []):
        where = f"spec.envFrom[{i}]"
        if (source.secret_ref is None) == (source.config_map_ref is None):
            yield f"{where}: set exactly one of secretRef and configMapRef"
        if source.prefix and _reserved_env_name(source.prefix):
            yield f"{where}.prefix: {source.prefix!r} would form names reserved for the runner"


def _nonnegative(value: int | str | None, where: str) -> Iterator[str]:
    if value is not None and parse_quantity(value) < 0:
        yield f"{where}: must not be negative"


def _rlimit_errors(spec: models.ExecutionSpec) -> Iterator[str]:
    rl = spec.rlimits
    yield from _nonnegative(rl.file_size, "spec.rlimits.fileSize")
    if parse_quantity(rl.stack) < MIN_STACK_RLIMIT:
        yield "spec.rlimits.stack: at least 64Ki, or Python cannot start"
    if rl.memory is not None and parse_quantity(rl.memory) < MIN_MEMORY_RLIMIT:
        yield "spec.rlimits.memory: at least 32Mi, or Python cannot start"
    key = protocol.RlimitKey
    values = {
        key.STACK: rl.stack,
        key.MEMORY: rl.memory,
        key.FILE_SIZE: rl.file_size,
        key.CPU_SECONDS: rl.cpu_seconds,
        key.OPEN_FILES: rl.open_files,
        key.PROCESSES: rl.processes,
    }
    for name, value in values.items():
        if value is not None and parse_quantity(value) > MAX_RLIMIT:
            yield f"spec.rlimits.{name}: at most {MAX_RLIMIT} (2^63 - 1), the largest rlimit"


def _resource_errors(spec: models.ExecutionSpec) -> Iterator[str]:
    if spec.resources is None:
        return
    requests = spec.resources.requests or {}
    limits = spec.resources.limits or {}
    for kind, values in (("requests", requests), ("limits", limits)):
        for name, value in values.items():
            where = f"spec.resources.{kind}.{name}"
            if name not in RESOURCE_NAMES and not name.startswith("hugepages-"):
                yield f"{where}: unknown resource (cpu, memory, ephemeral-storage, hugepages-*)"
            yield from _nonnegative(value, where)
    for name, request in requests.items():
        limit = limits.get(name)
        if limit is not None and parse_quantity(request) > parse_quantity(limit):
            yield f"spec.resources.requests.{name}: {request} is more than the limit {limit}"


def _logs_errors(spec: models.ExecutionSpec) -> Iterator[str]:
    low, high = MAX_BATCH_BYTES_RANGE
    if not low <= parse_quantity(spec.logs.max_batch_bytes) <= high:
        yield "spec.logs.maxBatchBytes: must be between 1Ki and 64Mi"


def _label_key_error(key: str, *, ours_reserved: bool) -> str | None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return "prefix must be a DNS subdomain"
    if len(name) > 63 or not _LABEL_NAME.match(name):
        return "name must be at most 63 letters, digits, '-', '_' or '.'"
    if ours_reserved and key.startswith(naming.LABEL_PREFIX):
        return f"the {naming.LABEL_PREFIX} prefix is reserved for the operator"
    return None


def _pod_template_errors(spec: models.ExecutionSpec) -> Iterator[str]:
    template = spec.pod_template
    if template is None:
        return
    maps = (
        ("labels", template.labels, True),
        ("annotations", template.annotations, False),
        ("nodeSelector", template.node_selector, True),
    )
    for field, mapping, values_are_labels in maps:
        for key, value in (mapping or {}).items():
            where = f"spec.podTemplate.{field}[{key!r}]"
            problem = _label_key_error(key, ours_reserved=field != "nodeSelector")
            if problem:
                yield f"{where}: {problem}"
            if values_are_labels and (len(value) > 63 or not _LABEL_VALUE.match(value)):
                yield f"{where}: value must be a label value (at most 63 characters)"


def _payload_size_errors(spec: models.ExecutionSpec) -> Iterator[str]:
    code_bytes = len((spec.code or "").encode())
    input_bytes = 0 if spec.input_from else len(protocol.canonical_json(spec.input))
    total = code_bytes + input_bytes
    if total > MAX_PAYLOAD_BYTES:
        yield (
            f"spec.input: code and input together are {total} bytes, more than the "
            f"{MAX_PAYLOAD_BYTES} a payload ConfigMap holds; use codeFrom/inputFrom"
        )
