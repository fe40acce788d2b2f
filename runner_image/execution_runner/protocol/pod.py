"""The pod: payload files, the runner's command and environment, user env names."""

from __future__ import annotations

# `typing` costs milliseconds of the runner's start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

# --- payload directory (a ConfigMap mounted read-only) -----------------------
PAYLOAD_DIR_ENV: Final = "EXECUTION_PAYLOAD_DIR"
DEFAULT_PAYLOAD_DIR: Final = "/var/run/execution"
CODE_FILE: Final = "code.py"
INPUT_FILE: Final = "input.json"  # {"data": <input>, "payload_type": <str or null>}
# Raw JSON of `data` when the Execution uses `inputFrom`: the user's ConfigMap key
# is projected here, and input.json then carries only `payload_type`.
INPUT_DATA_FILE: Final = "input-data.json"
RUNNER_CONFIG_FILE: Final = "runner.json"


class InputKey:
    DATA: Final = "data"
    PAYLOAD_TYPE: Final = "payload_type"


# --- the pod: command and environment of the runner ---------------------------
# Isolated (-I): no user-chosen variable or file in the working directory steers
# the runner's interpreter (image entrypoint and the pod's command). `-c` rather
# than `-m execution_runner` (which works too): `-m` loads runpy, ~4 ms of start-up.
RUNNER_START: Final = "from execution_runner.__main__ import main; main()"
RUNNER_COMMAND: Final = ("python3", "-I", "-c", RUNNER_START)
TERMINATION_LOG_ENV: Final = "EXECUTION_TERMINATION_LOG"
DEFAULT_TERMINATION_LOG: Final = "/dev/termination-log"
LOGS_API_KEY_ENV: Final = "EXECUTION_LOGS_API_KEY"
LOGS_WORKSPACE_ENV: Final = "EXECUTION_LOGS_WORKSPACE"
POD_NAME_ENV: Final = "EXECUTION_POD_NAME"
NODE_NAME_ENV: Final = "EXECUTION_NODE_NAME"
# `spec.env[i]` reaches the pod as `EXECUTION_ENV_<name>`; only the child sees the
# plain name, never the runner's interpreter.
ENV_MARKER: Final = "EXECUTION_ENV_"
# `envFrom` sources: `EXECUTION_ENVFROM_<index>_<user prefix><key>`; runner.json
# `envFrom` lists the markers in order. Declared `env` wins, as in Kubernetes.
ENV_FROM_MARKER: Final = "EXECUTION_ENVFROM_"
# Names that steer process start-up or belong to the runner or the cluster: refused
# in `spec.env`, dropped (with a warning on stderr) when they arrive through `envFrom`.
RESERVED_ENV_PREFIXES: Final = ("PYTHON", "LD_", "EXECUTION_", "KUBERNETES_")
# Loader/libc variables without one of those prefixes that also steer start-up.
RESERVED_ENV_NAMES: Final = frozenset({"GCONV_PATH", "GLIBC_TUNABLES", "LOCPATH", "NLSPATH"})
# What the child always gets (values from the runner's own env when set there).
_POD_TMP: Final = "/tmp"  # noqa: S108 - the pod's private emptyDir
BASELINE_ENV_DEFAULTS: Final = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": _POD_TMP,
    "LANG": "C.UTF-8",
    "TMPDIR": _POD_TMP,
}
# Set to runner.json `threads`.
THREAD_CAP_ENV: Final = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)


def env_marker_name(name: str) -> str:
    """The container variable that carries `spec.env` entry `name` to the runner."""
    return ENV_MARKER + name


def env_from_prefix(index: int) -> str:
    """The marker of the `index`-th `envFrom` source."""
    return f"{ENV_FROM_MARKER}{index}_"


def env_name_reserved(name: str) -> bool:
    """True for names user env may not set (see RESERVED_ENV_PREFIXES)."""
    return name.startswith(RESERVED_ENV_PREFIXES) or name in RESERVED_ENV_NAMES
