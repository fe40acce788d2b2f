"""The user process's environment: only declared names plus a fixed baseline."""

from __future__ import annotations

from collections.abc import Mapping

from execution_runner import protocol
from execution_runner.config import RunnerConfig


def _allowed(name: str) -> bool:
    return not name.startswith(protocol.FORBIDDEN_ENV_PREFIXES)


def build_child_env(config: RunnerConfig, environ: Mapping[str, str]) -> dict[str, str]:
    """Baseline, thread caps, then `envFrom` sources in order, then `env` (which wins).

    Declared names missing from the runner's environment (an optional Secret key)
    are skipped; forbidden prefixes never pass, declared or not.
    """
    env = {
        name: environ.get(name, default) for name, default in protocol.BASELINE_ENV_DEFAULTS.items()
    }
    env.update(dict.fromkeys(protocol.THREAD_CAP_ENV, str(config.threads)))
    for source in config.env_from:
        for name, value in environ.items():
            stripped = name[len(source.prefix) :]
            if name.startswith(source.prefix) and stripped and _allowed(stripped):
                env[stripped] = value
    for name in (*config.env, *config.secret_env):
        if name in environ and _allowed(name):
            env[name] = environ[name]
    return env


def secret_values(config: RunnerConfig, environ: Mapping[str, str]) -> list[str]:
    """Values that must never leave the pod: secret env, secret envFrom, the log API key."""
    values = [environ[name] for name in config.secret_env if name in environ]
    for source in config.env_from:
        if source.secret:
            values.extend(v for n, v in environ.items() if n.startswith(source.prefix))
    if protocol.LOGS_API_KEY_ENV in environ:
        values.append(environ[protocol.LOGS_API_KEY_ENV])
    return values
