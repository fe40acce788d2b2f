"""The Execution and Secret the client builds from execute()'s arguments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from execution_operator import models
from execution_operator.client import _spec
from execution_operator.client._log_settings import logs_from_env
from execution_operator.validation import validate_execution


def build(**kwargs: Any) -> dict[str, Any]:
    request = _spec.RunRequest(code="result = 1", **kwargs)
    return _spec.execution_body(request, "exec-1", client_id="c1", default_timeout_secs=30, logs={})


def test_env_values_stay_out_of_the_execution() -> None:
    body = build(env_vars={"API_KEY": "v-123", "A": "x"})
    assert "v-123" not in json.dumps(body)
    assert body["spec"]["env"] == [
        {"name": "A", "valueFrom": {"secretKeyRef": {"name": "exec-1-env", "key": "A"}}},
        {
            "name": "API_KEY",
            "valueFrom": {"secretKeyRef": {"name": "exec-1-env", "key": "API_KEY"}},
        },
    ]
    secret = _spec.env_secret_body("exec-1", {"API_KEY": "v-123"}, "c1")
    assert secret["stringData"] == {"API_KEY": "v-123"}
    assert secret["metadata"]["name"] == "exec-1-env"


def test_no_env_no_env_section() -> None:
    assert "env" not in build()["spec"]


def test_ids_become_log_attributes_and_the_timeout_rounds_up() -> None:
    spec = build(optimization_id="opt-1", job_id="job-2", timeout_secs=2.5, payload_type="t")[
        "spec"
    ]
    assert spec["logs"] == {"attributes": {"optimization_id": "opt-1", "job_id": "job-2"}}
    assert spec["timeoutSeconds"] == 3
    assert spec["payloadType"] == "t"


def test_the_body_is_a_valid_execution() -> None:
    body = build(env_vars={"A": "1"}, env_from_secrets=("creds",), data={"x": [1]})
    assert validate_execution(body) == []  # the operator's own validation
    spec = models.ExecutionSpec.model_validate(body["spec"])
    assert spec.env_from is not None
    assert spec.env_from[0].secret_ref is not None
    assert spec.env_from[0].secret_ref.name == "creds"
    assert spec.input == {"x": [1]}


def test_owner_patch_names_the_execution() -> None:
    patch = _spec.owner_patch({"metadata": {"name": "exec-1", "uid": "u-1"}})
    [owner] = patch["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["uid"]) == ("Execution", "exec-1", "u-1")


def test_the_secret_is_valid_for_current_kubernetes() -> None:
    secret = _spec.env_secret_body("exec-1", {"API_KEY": "v"}, "c1")
    owned = {
        **secret,
        "metadata": {
            **secret["metadata"],
            **_spec.owner_patch({"metadata": {"name": "exec-1", "uid": "u-1"}})["metadata"],
        },
    }
    for body in (secret, owned):
        kubernetes_validate.validate(body, "1.30.0", strict=True)  # raises when invalid


@pytest.mark.parametrize("name", ["1X", "A-B", "PYTHONPATH", "LD_PRELOAD", "EXECUTION_X"])
def test_bad_env_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        _spec.check_env_names([name])


def test_code_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("result = 7\n")
    assert _spec.load_code(None, path) == "result = 7\n"
    assert _spec.load_code(str(path), None) == "result = 7\n"
    assert _spec.load_code("missing.py", None) == "missing.py"  # no such file: it is code
    with pytest.raises(ValueError, match="not both"):
        _spec.load_code("x", path)
    with pytest.raises(ValueError, match="required"):
        _spec.load_code(None, None)


def test_names() -> None:
    assert _spec.new_name("exec").startswith("exec-")
    with pytest.raises(ValueError, match="prefix"):
        _spec.new_name("Bad_Prefix")


def test_log_settings_from_the_in_process_executors_variables() -> None:
    assert logs_from_env({}) == {}
    assert logs_from_env(
        {
            "SUBPROCESS_LOG_ENABLED": "true",
            "SUBPROCESS_LOG_BACKEND_URL": "http://logs:8080/v1",
            "SUBPROCESS_LOG_FLUSH_INTERVAL": "500",
            "SUBPROCESS_LOG_MAX_SIZE": "1048576",
        }
    ) == {
        "enabled": True,
        "endpoint": "http://logs:8080/v1",
        "flushIntervalMillis": 500,
        "maxBatchBytes": 1048576,
    }
    assert logs_from_env({"SUBPROCESS_LOG_ENABLED": "false"}) == {"enabled": False}


def test_the_clients_own_variables_win() -> None:
    logs = logs_from_env(
        {
            "SUBPROCESS_LOG_ENABLED": "false",
            "EXECUTION_CLIENT_LOGS_ENABLED": "true",
            "EXECUTION_CLIENT_LOGS_MAX_BATCH_BYTES": "2Mi",
            "EXECUTION_CLIENT_LOGS_CREDENTIALS_SECRET": "log-creds",
        }
    )
    assert logs == {
        "enabled": True,
        "maxBatchBytes": "2Mi",
        "credentialsSecretRef": {"name": "log-creds"},
    }


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SUBPROCESS_LOG_ENABLED", "maybe"),
        ("SUBPROCESS_LOG_FLUSH_INTERVAL", "1s"),
        ("SUBPROCESS_LOG_MAX_SIZE", "lots"),
        ("EXECUTION_CLIENT_LOGS_ENDPOINT", "logs:8080"),
    ],
)
def test_bad_log_settings_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ValueError, match=variable):
        logs_from_env({variable: value})
