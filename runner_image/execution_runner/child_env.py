"""The user process's environment: only declared names plus a fixed baseline.

`spec.env` values reach the runner as `EXECUTION_ENV_<name>` and `envFrom`
values as `EXECUTION_ENVFROM_<i>_<name>`; the child gets them under the plain
names. Names that steer process start-up (protocol.env_name_reserved) never pass.
"""

from __future__ import annotations

from execution_runner import protocol

# `typing` and `collections.abc` cost milliseconds of start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from execution_runner.config import RunnerConfig


def _declared(config: RunnerConfig) -> tuple[str, ...]:
    return (*config.env, *config.secret_env)


def build_child_env(
    config: RunnerConfig, environ: Mapping[str, str], warn: Callable[[str], None]
) -> dict[str, str]:
    """Baseline, thread caps, then `envFrom` sources in order, then `env` (which wins).

    Declared names missing from the runner's environment (an optional Secret key)
    are skipped; reserved names are dropped with a warning, declared or not.
    """
    env = {
        name: environ.get(name, default) for name, default in protocol.BASELINE_ENV_DEFAULTS.items()
    }
    env.update(dict.fromkeys(protocol.THREAD_CAP_ENV, str(config.threads)))
    dropped: set[str] = set()
    for source in config.env_from:
        # Names only: no other value (e.g. the log API key) is ever decoded before the fork.
        for name in environ:
            stripped = name[len(source.prefix) :]
            if not name.startswith(source.prefix) or not stripped:
                continue
            if protocol.env_name_reserved(stripped):
                dropped.add(stripped)
            else:
                env[stripped] = environ[name]
    for name in _declared(config):
        marked = protocol.env_marker_name(name)
        if protocol.env_name_reserved(name):
            dropped.add(name)
        elif marked in environ:
            env[name] = environ[marked]
    for name in sorted(dropped):
        warn(f"{name!r} is reserved (it steers process start-up or the runner); not passed on")
    return env


def secret_values(config: RunnerConfig, environ: Mapping[str, str]) -> list[str]:
    """Values that must never leave the pod: secret env, secret envFrom, the log API key."""
    values = [
        environ[protocol.env_marker_name(name)]
        for name in config.secret_env
        if protocol.env_marker_name(name) in environ
    ]
    for source in config.env_from:
        if source.secret:
            values.extend(v for n, v in environ.items() if n.startswith(source.prefix))
    if protocol.LOGS_API_KEY_ENV in environ:
        values.append(environ[protocol.LOGS_API_KEY_ENV])
    return values
