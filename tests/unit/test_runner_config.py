"""runner.json parsing: defaults, explicit nulls, and errors that name the key."""

from __future__ import annotations

import re

import pytest
from execution_runner import protocol
from execution_runner.child_env import build_child_env, secret_values
from execution_runner.config import parse_runner_config
from execution_runner.errors import RunnerError


def test_empty_document_takes_documented_defaults() -> None:
    config = parse_runner_config({})
    assert config.timeout_seconds == protocol.DEFAULT_TIMEOUT_SECONDS
    assert (
        config.rlimits
        == protocol.DEFAULT_RLIMITS
        == {
            "stack": protocol.DEFAULT_STACK_BYTES,
            "fileSize": protocol.DEFAULT_FILE_SIZE_BYTES,
        }
    )
    assert config.threads == 1
    assert (config.env, config.secret_env, config.env_from) == ((), (), ())
    assert config.max_result_bytes == protocol.DEFAULT_MAX_RESULT_BYTES
    assert config.require_result is False
    assert config.kill_grace_seconds == protocol.DEFAULT_KILL_GRACE_SECONDS
    assert config.execution == {}
    assert (config.logs.endpoint, config.logs.shipping) == (None, False)


def test_full_document_and_unknown_keys() -> None:
    config = parse_runner_config(
        {
            "timeoutSeconds": 2.5,
            "rlimits": {"stack": None, "memory": 1024, "cpuSeconds": 3, "fileSize": None},
            "threads": 4,
            "env": ["A"],
            "secretEnv": ["A"],
            "envFrom": ["EXECUTION_ENVFROM_0_", {"prefix": "EXECUTION_ENVFROM_1_", "secret": True}],
            "logs": {"endpoint": "http://x"},
            "execution": {"name": "n", "attempt": 1, "uid": None},
            "someFutureKey": {"ignored": True},
        }
    )
    assert config.timeout_seconds == 2.5
    # Null means the default for the limits that always apply.
    assert config.rlimits == {**protocol.DEFAULT_RLIMITS, "memory": 1024, "cpuSeconds": 3}
    assert [(s.prefix, s.secret) for s in config.env_from] == [
        ("EXECUTION_ENVFROM_0_", False),
        ("EXECUTION_ENVFROM_1_", True),
    ]
    assert (config.logs.endpoint, config.logs.shipping) == ("http://x", True)
    assert config.execution == {"name": "n", "attempt": "1"}


@pytest.mark.parametrize(
    ("document", "key"),
    [
        ([], "(top level)"),
        ({"timeoutSeconds": "30"}, "timeoutSeconds"),
        ({"timeoutSeconds": 0}, "timeoutSeconds"),
        ({"rlimits": {"memory": "1Gi"}}, "rlimits.memory"),
        ({"rlimits": {"processes": True}}, "rlimits.processes"),
        ({"rlimits": {"stack": -1}}, "rlimits.stack"),
        ({"rlimits": []}, "rlimits"),
        ({"threads": 0}, "threads"),
        ({"env": "A"}, "env"),
        ({"secretEnv": [1]}, "secretEnv"),
        ({"envFrom": [{"secret": True}]}, "envFrom"),
        ({"maxResultBytes": 1.5}, "maxResultBytes"),
        ({"requireResult": "yes"}, "requireResult"),
        ({"logs": "on"}, "logs"),
        ({"killGraceSeconds": -1}, "killGraceSeconds"),
    ],
)
def test_wrong_types_name_the_key(document: object, key: str) -> None:
    with pytest.raises(RunnerError, match=re.escape(f"`{key}")):
        parse_runner_config(document)


def test_child_env_is_declared_names_plus_baseline() -> None:
    config = parse_runner_config(
        {
            "threads": 2,
            "env": ["A", "MISSING", "KUBERNETES_PORT", "PYTHONSTARTUP", "PLAIN_ONLY"],
            "secretEnv": ["S"],
            "envFrom": [{"prefix": "EXECUTION_ENVFROM_0_", "secret": True}],
        }
    )
    environ = {
        "EXECUTION_ENV_A": "a",
        "EXECUTION_ENV_S": "secret-s",
        "EXECUTION_ENV_KUBERNETES_PORT": "443",
        "EXECUTION_ENV_PYTHONSTARTUP": "/tmp/x.py",
        # Only marked values are user env: a plain name in the runner's env is the pod's.
        "PLAIN_ONLY": "pod-level",
        "B": "undeclared",
        "PATH": "/custom",
        "EXECUTION_ENVFROM_0_X": "from-secret",
        "EXECUTION_ENVFROM_0_EXECUTION_LOGS_API_KEY": "sneaky",
        "EXECUTION_ENVFROM_0_LD_PRELOAD": "/tmp/evil.so",
        "EXECUTION_ENVFROM_0_GLIBC_TUNABLES": "x",
        "EXECUTION_LOGS_API_KEY": "logs-key",
    }
    warnings: list[str] = []
    env = build_child_env(config, environ, warnings.append)
    assert env == {
        "PATH": "/custom",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp",
        **dict.fromkeys(protocol.THREAD_CAP_ENV, "2"),
        "A": "a",
        "S": "secret-s",
        "X": "from-secret",
    }
    dropped = ["EXECUTION_LOGS_API_KEY", "GLIBC_TUNABLES", "KUBERNETES_PORT", "LD_PRELOAD"]
    dropped += ["PYTHONSTARTUP"]
    assert [w.split("'")[1] for w in warnings] == dropped
    assert sorted(secret_values(config, environ)) == [
        "/tmp/evil.so",
        "from-secret",
        "logs-key",
        "secret-s",
        "sneaky",
        "x",
    ]
