"""The Execution API: pydantic models that are the single source of truth.

`crd.py` turns these into the CRD's structural schema, `validation.py` parses an
Execution body with them, and `docs/api.md` describes them. Attributes are
snake_case; the wire names are their camelCase aliases. The base model and field
types are in `api_types.py`, the pod settings in `pod_model.py`, the status model in
`status_model.py`.
"""

from __future__ import annotations

from typing import Final, Literal

from execution_runner import protocol
from pydantic import Field

from .api_types import AnyJson, ApiModel, ConfigMapKey, ObjectName, Quantity
from .pod_model import PodTemplate, ResourceRequirements

GROUP: Final = "execution-operator.io"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"
KIND: Final = "Execution"
PLURAL: Final = "executions"
SINGULAR: Final = "execution"
SHORT_NAMES: Final = ("exe",)

# A ConfigMap holds at most 1 MiB; the code, the input and runner.json share it.
MAX_CODE_CHARS: Final = 512 * 1024
MAX_TIMEOUT_SECONDS: Final = 86400
MAX_RETRIES: Final = 10
# POSIX names only: the user code reads them through os.environ.
ENV_NAME_PATTERN: Final = r"^[A-Za-z_][A-Za-z0-9_]*$"

Phase = Literal["Pending", "Running", "Succeeded", "Failed", "Cancelled"]
PHASES: Final[tuple[str, ...]] = ("Pending", "Running", "Succeeded", "Failed", "Cancelled")
TERMINAL_PHASES: Final = frozenset({"Succeeded", "Failed", "Cancelled"})


# --- spec ---------------------------------------------------------------------


class KeyRef(ApiModel):
    """A key of a ConfigMap in the Execution's namespace."""

    name: ObjectName = Field(description="Name of the ConfigMap.")
    key: ConfigMapKey = Field(description="The key to select.")


class KeySelector(ApiModel):
    """A key of a ConfigMap or Secret in the Execution's namespace."""

    name: ObjectName = Field(description="Name of the ConfigMap or Secret.")
    key: ConfigMapKey = Field(description="The key to select.")
    optional: bool | None = Field(
        default=None,
        description="Whether a missing object or key is allowed (the variable is then unset).",
    )


class ConfigMapKeySource(ApiModel):
    """Text taken from a key of a ConfigMap in the Execution's namespace."""

    config_map_key_ref: KeyRef = Field(
        description="The ConfigMap key; it is mounted into the pod, the operator does not read it."
    )


class EnvVarSource(ApiModel):
    """Where an environment variable's value comes from (exactly one)."""

    secret_key_ref: KeySelector | None = Field(
        default=None,
        description="A Secret key; the value reaches the user code and is redacted from logs.",
    )
    config_map_key_ref: KeySelector | None = Field(default=None, description="A ConfigMap key.")


class EnvVar(ApiModel):
    """An environment variable of the user code (a subset of Kubernetes EnvVar)."""

    name: str = Field(
        min_length=1,
        max_length=256,
        pattern=ENV_NAME_PATTERN,
        description=(
            "Variable name; names starting with PYTHON, LD_, EXECUTION_ or KUBERNETES_ "
            "are reserved."
        ),
    )
    value: str | None = Field(default=None, description="Literal value.")
    value_from: EnvVarSource | None = Field(
        default=None, description="Value from a Secret or ConfigMap key (instead of value)."
    )


class LocalObjectRef(ApiModel):
    """A ConfigMap or Secret in the Execution's namespace."""

    name: ObjectName = Field(description="Name of the object.")
    optional: bool | None = Field(
        default=None, description="Whether a missing object is allowed (no variables then)."
    )


class EnvFromSource(ApiModel):
    """All keys of a ConfigMap or Secret as variables (a subset of EnvFromSource)."""

    prefix: str | None = Field(
        default=None,
        max_length=128,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Prepended to every key to form the variable name.",
    )
    secret_ref: LocalObjectRef | None = Field(
        default=None, description="A Secret; its values are redacted from logs."
    )
    config_map_ref: LocalObjectRef | None = Field(default=None, description="A ConfigMap.")


class RLimits(ApiModel):
    """Limits applied to the user process itself (setrlimit), not to the container."""

    stack: Quantity = Field(default="20Mi", description="RLIMIT_STACK in bytes (quantity).")
    memory: Quantity | None = Field(
        default=None,
        description="RLIMIT_AS, the address space in bytes (quantity); exceeding it is "
        "MemoryLimitExceeded. Unset: the operator's default, if any.",
    )
    cpu_seconds: int | None = Field(
        default=None, ge=1, description="RLIMIT_CPU in seconds of CPU time; CpuLimitExceeded."
    )
    open_files: int | None = Field(default=None, ge=16, description="RLIMIT_NOFILE.")
    processes: int | None = Field(
        default=None, ge=1, description="RLIMIT_NPROC: processes and threads of the user."
    )
    file_size: Quantity | None = Field(
        default=None,
        description="RLIMIT_FSIZE: largest file the code may write (quantity); unset: 256Mi.",
    )


class SecretRef(ApiModel):
    """A Secret in the Execution's namespace."""

    name: ObjectName = Field(description="Name of the Secret.")


class LogsSpec(ApiModel):
    """Shipping of the code's output to an HTTP log backend."""

    enabled: bool = Field(default=True, description="Ship logs (kubectl logs works either way).")
    endpoint: str | None = Field(
        default=None,
        max_length=2048,
        pattern=r"^https?://",
        description="URL the batches are POSTed to; unset: the operator's default endpoint.",
    )
    credentials_secret_ref: SecretRef | None = Field(
        default=None,
        description="Secret with keys `apiKey` and `workspace`, given to the runner only.",
    )
    attributes: dict[str, str] | None = Field(
        default=None, description="Added to every record, e.g. optimization_id, job_id."
    )
    flush_interval_millis: int = Field(
        default=1000, ge=50, le=60000, description="Longest time a record waits to be sent."
    )
    max_batch_bytes: Quantity = Field(
        default="10Mi", description="Largest batch before compression (quantity)."
    )
    overflow: Literal["block", "drop"] = Field(
        default=protocol.DEFAULT_LOGS_OVERFLOW,
        description=(
            "When the code prints faster than the backend takes logs: block (the code's "
            "writes wait while the backend accepts; lines are dropped and counted only while "
            "it is down or failing) or drop (never wait; a full queue drops lines, counted)."
        ),
    )


class ExecutionSpec(ApiModel):
    """What to run and how. Changing it (a new generation) starts a new run."""

    code: str | None = Field(
        default=None,
        max_length=MAX_CODE_CHARS,
        description="Python source of the user code. Exactly one of code and codeFrom.",
    )
    code_from: ConfigMapKeySource | None = Field(
        default=None, description="The code from a ConfigMap key instead of `code`."
    )
    input: AnyJson = Field(
        default_factory=dict,
        json_schema_extra={"default": {}},
        description="Any JSON; the code sees it as the global `data`. At most one of "
        "input and inputFrom.",
    )
    input_from: ConfigMapKeySource | None = Field(
        default=None, description="The input as JSON text in a ConfigMap key instead of `input`."
    )
    payload_type: str | None = Field(
        default=None,
        max_length=253,
        description="Given to the code as the global `payload_type`.",
    )
    env: list[EnvVar] | None = Field(
        default=None,
        # A list keyed by name: the API server rejects duplicate names.
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
        description="Environment variables of the user code; nothing else reaches it.",
    )
    env_from: list[EnvFromSource] | None = Field(
        default=None, description="All keys of ConfigMaps or Secrets as variables of the user code."
    )
    timeout_seconds: int = Field(
        default=30,
        ge=1,
        le=MAX_TIMEOUT_SECONDS,
        description="Wall-clock limit of the user code; exceeding it is Timeout.",
    )
    start_deadline_seconds: int = Field(
        default=300,
        ge=1,
        le=MAX_TIMEOUT_SECONDS,
        description="Limit from pod creation until the code starts (scheduling, image pull, "
        "missing Secrets); exceeding it is StartDeadlineExceeded.",
    )
    rlimits: RLimits = Field(
        default_factory=RLimits,
        json_schema_extra={"default": {}},
        description="Limits of the user process (setrlimit), not of the container.",
    )
    threads: int = Field(
        default=1,
        ge=1,
        le=1024,
        description="Thread cap for BLAS/OpenMP (OMP, OpenBLAS, MKL, NumExpr, Numba).",
    )
    resources: ResourceRequirements | None = Field(
        default=None, description="Container requests and limits; unset: the operator's defaults."
    )
    image: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="Runner image; unset: the operator's default.",
    )
    logs: LogsSpec = Field(
        default_factory=LogsSpec,
        json_schema_extra={"default": {}},
        description="Shipping of the code's output to a log backend.",
    )
    retries: int = Field(
        default=0,
        ge=0,
        le=MAX_RETRIES,
        description="Re-runs after infrastructure failures only (pod deleted or evicted, "
        "node lost, start failure); never after user errors or timeouts.",
    )
    ttl_seconds_after_finished: int | None = Field(
        default=None,
        ge=0,
        description="Delete the Execution (and its pod) this long after it finished.",
    )
    cancel: bool = Field(default=False, description="True stops a pending or running Execution.")
    pod_template: PodTemplate | None = Field(
        default=None, description="The pod settings an Execution may choose."
    )
