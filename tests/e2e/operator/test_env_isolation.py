"""User env reaches only the code, never the runner's interpreter (through the operator)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from execution_runner import protocol
from kubernetes import client

from tests.support import pyc_attack
from tests.support.operator_process import OperatorProcess

Apply = Callable[..., dict[str, Any]]
Wait = Callable[..., dict[str, Any]]
PodsOf = Callable[[str], list[Any]]

LOGS_KEY = "logs-key-operator-e2e-4711"
IMAGE_PACKAGE_DIR = "/opt/execution-runner/execution_runner"


def test_env_name_that_steers_python_is_invalid_spec(
    apply_execution: Apply, wait_phase: Wait, pods_of: PodsOf
) -> None:
    env = [{"name": "OK", "value": "1"}, {"name": "PYTHONPYCACHEPREFIX", "value": "/tmp/pyc"}]
    created = apply_execution("pycache", {"code": "result = 1", "env": env})
    status = wait_phase("pycache", timeout=15)

    assert (status["phase"], status["reason"], status["code"]) == ("Failed", "InvalidSpec", 500)
    assert "spec.env[1].name: 'PYTHONPYCACHEPREFIX' is reserved" in status["message"]
    assert pods_of(created["metadata"]["uid"]) == []


def test_pyc_planting_through_env_from_never_reaches_the_runner(
    apply_execution: Apply,
    wait_phase: Wait,
    core: client.CoreV1Api,
    namespace: str,
    operator: OperatorProcess,
) -> None:
    core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="user-env"),
            data={"PYTHONPYCACHEPREFIX": "/tmp/pyc", "GREETING": "hi"},
        ),
    )
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="log-creds"), string_data={"apiKey": LOGS_KEY}
        ),
    )
    code = pyc_attack.CODE + "\nresult['env'] = {k: os.environ[k] for k in sorted(os.environ)}\n"
    spec = {
        "code": code,
        "input": pyc_attack.attack_data("/tmp/pyc", IMAGE_PACKAGE_DIR),
        "envFrom": [{"configMapRef": {"name": "user-env"}}],
        # Shipping on (to nowhere): the key is in the pod, the collector loads lazily.
        "logs": {
            "endpoint": "http://127.0.0.1:9/logs",
            "credentialsSecretRef": {"name": "log-creds"},
        },
    }
    apply_execution("planted", spec)
    status = wait_phase("planted", timeout=90)

    assert (status["phase"], status["reason"]) == ("Succeeded", "Completed"), status
    result = status["result"]
    assert result["runnerFiles"] > 10  # the runner's own modules were shadowed
    assert result["env"]["GREETING"] == "hi"
    assert "PYTHONPYCACHEPREFIX" not in result["env"]
    pod_log = core.read_namespaced_pod_log(status["podName"], namespace)
    assert "'PYTHONPYCACHEPREFIX' is reserved" in pod_log
    for text in (pod_log, json.dumps(status), operator.log_text()):
        assert pyc_attack.MARK not in text
        assert LOGS_KEY not in text
    assert protocol.LOGS_API_KEY_ENV not in result["env"]
