"""Operator settings, read once at start-up from `EXECUTION_OPERATOR_*` variables.

Every field of `Settings` documents its variable, default and meaning in its
metadata; `settings_table()` renders them as the Markdown table the README and
the Helm chart's values mirror.
"""

from __future__ import annotations

import dataclasses
import hashlib
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Final

from execution_runner import protocol

from .quantity import QuantityError, parse_quantity, quantity_to_int

ENV_PREFIX: Final = "EXECUTION_OPERATOR_"
# Well-known taints that keep workloads off control-plane and failing nodes.
DEFAULT_DENIED_TOLERATION_KEYS: Final = (
    "node-role.kubernetes.io/control-plane",
    "node-role.kubernetes.io/master",
    "node.kubernetes.io/unreachable",
    "node.kubernetes.io/not-ready",
)
# Half the API server's limit on one object's annotations: the rest is the user's.
MAX_INLINE_PAYLOAD_BYTES: Final = 128 * 1024
# Largest uid Linux and Kubernetes accept for runAsUser.
MAX_RUN_AS_ID: Final = 2**31 - 2


def _version() -> str:
    try:
        return metadata.version("execution-operator")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "0.1.0"


VERSION: Final = _version()


class SettingsError(ValueError):
    """An `EXECUTION_OPERATOR_*` variable has a value the operator cannot use."""


def _setting(default: Any, doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class Settings:
    """The operator's settings; `load_settings()` builds them from the environment.

    Each field is read from `EXECUTION_OPERATOR_<FIELD NAME IN UPPER CASE>`.
    """

    runner_image: str = _setting(
        f"execution-operator/runner:{VERSION}", "Runner image of Executions without spec.image."
    )
    allowed_images: tuple[str, ...] = _setting(
        (),
        "Comma-separated runner image repositories spec.image may name (an entry ending in / "
        "allows everything below it); empty: only the runner image's repository.",
    )
    image_pull_policy: str = _setting(
        "IfNotPresent", "imagePullPolicy of execution pods (Always, IfNotPresent, Never)."
    )
    log_endpoint: str = _setting(
        "", "Log backend URL for Executions without spec.logs.endpoint; empty: no shipping."
    )
    max_result_bytes: int = _setting(
        protocol.DEFAULT_MAX_RESULT_BYTES,
        "Largest result (canonical JSON bytes); larger is ResultTooLarge. Quantity.",
    )
    result_read_max_bytes: int = _setting(
        1024 * 1024,
        "Most bytes of a pod's log tail read to find the result line. Quantity; "
        "at least twice the max result bytes.",
    )
    inline_payload_max_bytes: int = _setting(
        16 * 1024,
        "Largest payload (code, input and runner.json) the pod carries in its own annotations, "
        "so no ConfigMap is made or fetched; larger goes in a ConfigMap. Quantity; 0: always a "
        f"ConfigMap; at most {MAX_INLINE_PAYLOAD_BYTES // 1024}Ki.",
    )
    namespaces: tuple[str, ...] = _setting(
        (), "Comma-separated namespaces to watch; empty: all namespaces."
    )
    default_cpu_request: str = _setting("100m", "CPU request of pods without spec.resources.")
    default_memory_request: str = _setting(
        "128Mi", "Memory request of pods without spec.resources."
    )
    default_cpu_limit: str = _setting("", "CPU limit of pods without spec.resources; empty: none.")
    default_memory_limit: str = _setting(
        "1Gi", "Memory limit of pods without spec.resources; empty: none."
    )
    default_memory_rlimit: str = _setting(
        "", "rlimits.memory (RLIMIT_AS) of Executions that set none; empty: unlimited."
    )
    denied_toleration_keys: tuple[str, ...] = _setting(
        DEFAULT_DENIED_TOLERATION_KEYS,
        "Comma-separated taint keys spec.podTemplate.tolerations may not name (an empty key "
        "with operator Exists is always refused).",
    )
    run_as_id_start: int = _setting(
        100000, "First uid/gid of execution pods; each attempt gets its own in the range."
    )
    run_as_id_count: int = _setting(
        2**24, "How many uids/gids execution pods are spread over (from the first one)."
    )
    tmp_size_limit: str = _setting("256Mi", "sizeLimit of the pod's /tmp emptyDir.")
    termination_grace_seconds: int = _setting(
        15, "terminationGracePeriodSeconds: time for the runner to stop the code and flush logs."
    )
    listen_address: str = _setting(
        "0.0.0.0",  # noqa: S104 - in a pod the kubelet and Prometheus connect from outside
        "Address the metrics and liveness endpoints listen on.",
    )
    metrics_port: int = _setting(9090, "Port of the Prometheus metrics endpoint; 0: off.")
    liveness_port: int = _setting(8080, "Port of the /healthz liveness endpoint; 0: off.")
    peering: bool = _setting(False, "Coordinate several operator replicas through kopf peering.")
    peering_name: str = _setting("execution-operator", "Name of the kopf peering object.")
    peering_priority: int = _setting(
        0,
        "With peering: a replica pauses while one with a higher priority runs "
        "(equal priorities pause each other; give replicas distinct ones). auto: one "
        "derived from the host name, distinct for the pods of one Deployment.",
    )

    @property
    def default_resources(self) -> dict[str, dict[str, str]]:
        """Container resources of pods whose Execution sets no spec.resources."""
        requests = {"cpu": self.default_cpu_request, "memory": self.default_memory_request}
        limits = {"cpu": self.default_cpu_limit, "memory": self.default_memory_limit}
        result = {
            "requests": {k: v for k, v in requests.items() if v},
            "limits": {k: v for k, v in limits.items() if v},
        }
        return {k: v for k, v in result.items() if v}


def env_name(field_name: str) -> str:
    """The variable a field is read from."""
    return ENV_PREFIX + field_name.upper()


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Settings from `environ`; a bad value raises SettingsError naming its variable.

    Unknown `EXECUTION_OPERATOR_*` variables are errors too: a typo must not pass silently.
    """
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    known = {env_name(name) for name in fields}
    unknown = sorted(k for k in environ if k.startswith(ENV_PREFIX) and k not in known)
    if unknown:
        raise SettingsError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(known)}")
    values: dict[str, Any] = {}
    for name in fields:
        variable = env_name(name)
        if variable in environ:
            raw = environ[variable].strip()
            try:
                values[name] = _PARSERS[name](raw)
            except ValueError as exc:
                raise SettingsError(f"{variable}={raw!r}: {exc}") from exc
    settings = Settings(**values)
    _check(settings)
    return settings


def _parse_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValueError("expected a whole number") from None
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _parse_port(raw: str) -> int:
    value = _parse_int(raw)
    if value > 65535:
        raise ValueError("a port is at most 65535")
    return value


def _parse_bytes(raw: str) -> int:
    try:
        return quantity_to_int(raw)
    except QuantityError as exc:
        raise ValueError(str(exc)) from None


def _parse_quantity_or_empty(raw: str) -> str:
    if raw:
        try:
            parse_quantity(raw)
        except QuantityError as exc:
            raise ValueError(str(exc)) from None
    return raw


def _parse_bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected true or false")


def _parse_list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _parse_priority(raw: str) -> int:
    if raw == "auto":
        return auto_priority(socket.gethostname())
    return _parse_int(raw)


def auto_priority(hostname: str) -> int:
    """A priority from a pod's name: replicas of one template get distinct ones."""
    digest = hashlib.sha256(hostname.encode()).digest()
    return 1 + int.from_bytes(digest[:4], "big") % (2**31 - 1)


def _parse_pull_policy(raw: str) -> str:
    if raw not in ("Always", "IfNotPresent", "Never"):
        raise ValueError("expected Always, IfNotPresent or Never")
    return raw


def _parse_nonempty(raw: str) -> str:
    if not raw:
        raise ValueError("must not be empty")
    return raw


def _parse_text(raw: str) -> str:
    return raw


_PARSERS: Final[dict[str, Callable[[str], Any]]] = {
    "runner_image": _parse_nonempty,
    "allowed_images": _parse_list,
    "image_pull_policy": _parse_pull_policy,
    "log_endpoint": _parse_text,
    "max_result_bytes": _parse_bytes,
    "inline_payload_max_bytes": _parse_bytes,
    "result_read_max_bytes": _parse_bytes,
    "namespaces": _parse_list,
    "default_cpu_request": _parse_quantity_or_empty,
    "default_memory_request": _parse_quantity_or_empty,
    "default_cpu_limit": _parse_quantity_or_empty,
    "default_memory_limit": _parse_quantity_or_empty,
    "default_memory_rlimit": _parse_quantity_or_empty,
    "denied_toleration_keys": _parse_list,
    "run_as_id_start": _parse_int,
    "run_as_id_count": _parse_int,
    "tmp_size_limit": lambda raw: _parse_nonempty(_parse_quantity_or_empty(raw)),
    "termination_grace_seconds": _parse_int,
    "listen_address": _parse_nonempty,
    "metrics_port": _parse_port,
    "liveness_port": _parse_port,
    "peering": _parse_bool,
    "peering_name": _parse_nonempty,
    "peering_priority": _parse_priority,
}


def _check(settings: Settings) -> None:
    """Rules that involve more than one setting."""
    if settings.run_as_id_start < 1 or settings.run_as_id_count < 1:
        raise SettingsError(
            f"{env_name('run_as_id_start')} and {env_name('run_as_id_count')} must be at "
            "least 1 (execution pods never run as root)"
        )
    if settings.run_as_id_start + settings.run_as_id_count - 1 > MAX_RUN_AS_ID:
        raise SettingsError(
            f"{env_name('run_as_id_start')} + {env_name('run_as_id_count')} goes past the "
            f"largest uid, {MAX_RUN_AS_ID}"
        )
    if not 0 <= settings.inline_payload_max_bytes <= MAX_INLINE_PAYLOAD_BYTES:
        raise SettingsError(
            f"{env_name('inline_payload_max_bytes')} must be from 0 to "
            f"{MAX_INLINE_PAYLOAD_BYTES // 1024}Ki (the API server takes at most 256Ki of "
            "annotations per object, the pod template's among them)"
        )
    if settings.result_read_max_bytes < 2 * settings.max_result_bytes:
        raise SettingsError(
            f"{env_name('result_read_max_bytes')} must be at least twice "
            f"{env_name('max_result_bytes')} (the framed line escapes and wraps the result)"
        )


def settings_table() -> str:
    """A Markdown table of every setting: variable, default, meaning."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for f in dataclasses.fields(Settings):
        default = f.default
        shown = ",".join(default) if isinstance(default, tuple) else str(default)
        if isinstance(default, bool):
            shown = shown.lower()
        rows.append(f"| `{env_name(f.name)}` | `{shown}` | {f.metadata['doc']} |")
    return "\n".join(rows) + "\n"
