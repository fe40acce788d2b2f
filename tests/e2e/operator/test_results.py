"""What comes back from an Execution: results, errors and limits, on real pods."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client

from bench.cpu import api_requests
from tests.support.operator_process import OperatorProcess

Apply = Callable[..., dict[str, Any]]
Wait = Callable[..., dict[str, Any]]

SECRET_VALUE = "tok-3f9a7c1e5d2b"


def test_hello_returns_its_result(apply_execution: Apply, wait_phase: Wait) -> None:
    apply_execution(
        "hello",
        {"code": "result = {'greeting': 'hello ' + data['name']}", "input": {"name": "world"}},
    )
    status = wait_phase("hello")
    assert status["phase"] == "Succeeded"
    assert (status["reason"], status["code"]) == ("Completed", 200)
    assert status["result"] == {"greeting": "hello world"}
    assert status["metrics"]["executionMs"] >= 0
    assert status["metrics"]["startupMs"] >= 0
    assert status["observedGeneration"] == 1


def test_input_and_payload_type_reach_the_code(apply_execution: Apply, wait_phase: Wait) -> None:
    apply_execution(
        "typed",
        {
            "code": (
                "import json\n"
                "print('noise')\n"
                "print(json.dumps({'n': sum(data['xs']), 't': payload_type}))"
            ),
            "input": {"xs": [1, 2, 3]},
            "payloadType": "numbers",
        },
    )
    status = wait_phase("typed")
    # The seed convention: the last stdout line is the result when `result` is not set.
    assert status["result"] == {"n": 6, "t": "numbers"}


def test_code_from_a_configmap(
    apply_execution: Apply, wait_phase: Wait, core: client.CoreV1Api, namespace: str
) -> None:
    core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="scripts"),
            data={"double.py": "result = data * 2\n", "input.json": "21"},
        ),
    )
    apply_execution(
        "from-cm",
        {
            "codeFrom": {"configMapKeyRef": {"name": "scripts", "key": "double.py"}},
            "inputFrom": {"configMapKeyRef": {"name": "scripts", "key": "input.json"}},
        },
    )
    assert wait_phase("from-cm")["result"] == 42


def test_secret_env_reaches_the_code_and_nothing_else(
    apply_execution: Apply,
    wait_phase: Wait,
    core: client.CoreV1Api,
    namespace: str,
    operator: OperatorProcess,
    events_of: Callable[[str], list[Any]],
) -> None:
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="api"), string_data={"token": SECRET_VALUE}
        ),
    )
    code = (
        "import os\n"
        "token = os.environ['API_TOKEN']\n"
        "print('the token is', token)\n"
        "result = {'length': len(token)}\n"
        "raise RuntimeError('failed with ' + token)\n"
    )
    apply_execution(
        "secret",
        {
            "code": code,
            "env": [
                {
                    "name": "API_TOKEN",
                    "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}},
                }
            ],
        },
    )
    status = wait_phase("secret")
    assert status["reason"] == "UserError"
    # The code saw the value (the error names it) but every copy of it is redacted.
    assert "failed with" in status["error"]["message"]
    everything = json.dumps(status) + json.dumps([e.message for e in events_of("secret")])
    assert SECRET_VALUE not in everything
    assert SECRET_VALUE not in operator.log_text()
    pod_log = core.read_namespaced_pod_log(status["podName"], namespace)
    assert "the token is" in pod_log
    assert SECRET_VALUE not in pod_log


def test_user_exception_is_a_400_with_the_users_traceback(
    apply_execution: Apply, wait_phase: Wait
) -> None:
    apply_execution("boom", {"code": "def f(x):\n    return 1 / x\n\nf(0)\n"})
    status = wait_phase("boom")
    assert (status["phase"], status["reason"], status["code"]) == ("Failed", "UserError", 400)
    assert status["error"]["type"] == "ZeroDivisionError"
    assert "return 1 / x" in status["error"]["traceback"]
    assert "execution_runner" not in status["error"]["traceback"]


def test_timeout_stops_the_code(apply_execution: Apply, wait_phase: Wait) -> None:
    apply_execution("slow", {"code": "import time\ntime.sleep(60)\n", "timeoutSeconds": 2})
    started = time.monotonic()
    status = wait_phase("slow", timeout=40)
    assert (status["phase"], status["reason"], status["code"]) == ("Failed", "Timeout", 500)
    assert time.monotonic() - started < 30
    assert 2000 <= status["metrics"]["executionMs"] < 10000


def test_memory_limit_is_reported(apply_execution: Apply, wait_phase: Wait) -> None:
    apply_execution(
        "hog",
        {
            "code": "blocks = [bytearray(64 * 1024 * 1024) for _ in range(32)]\n",
            "rlimits": {"memory": "512Mi"},
        },
    )
    status = wait_phase("hog")
    assert (status["reason"], status["code"]) == ("MemoryLimitExceeded", 400)


def test_a_100_kib_result_arrives_whole(apply_execution: Apply, wait_phase: Wait) -> None:
    apply_execution(
        "big", {"code": "result = {'blob': 'x' * (100 * 1024), 'n': list(range(1000))}\n"}
    )
    status = wait_phase("big")
    assert status["reason"] == "Completed"
    assert status["result"] == {"blob": "x" * (100 * 1024), "n": list(range(1000))}


@pytest.mark.parametrize("size", ["inline", "from the log"])
def test_line_and_paragraph_separators_survive_in_results(
    apply_execution: Apply, wait_phase: Wait, size: str
) -> None:
    # Past 4 KiB the result no longer fits the termination message: the log path is used.
    pad = "" if size == "inline" else "p" * 8192
    code = f"result = {{'s': 'a\\u2028b\\u2029c\\x85d\\re', 'pad': {pad!r}}}\n"
    name = "separators-" + ("inline" if size == "inline" else "log")
    apply_execution(name, {"code": code})
    status = wait_phase(name)
    assert status["reason"] == "Completed", status
    assert status["result"] == {"s": "a\u2028b\u2029c\x85d\re", "pad": pad}


def test_a_600_kib_result_is_too_large(apply_execution: Apply, wait_phase: Wait) -> None:
    apply_execution("huge", {"code": "result = 'y' * (600 * 1024)\n"})
    status = wait_phase("huge")
    assert (status["phase"], status["reason"], status["code"]) == ("Failed", "ResultTooLarge", 400)
    assert "result" not in status or status["result"] is None


@pytest.mark.parametrize("where", ["env", "logs"])
def test_missing_secret_fails_fast_and_names_it(
    apply_execution: Apply, wait_phase: Wait, where: str
) -> None:
    spec: dict[str, Any] = {"code": "result = 1", "startDeadlineSeconds": 120}
    if where == "env":
        spec["env"] = [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "k"}}}]
    else:
        spec["logs"] = {"endpoint": "http://127.0.0.1:9/", "credentialsSecretRef": {"name": "nope"}}
    started = time.monotonic()
    apply_execution("nosecret", spec)
    status = wait_phase("nosecret", timeout=60)
    assert (status["phase"], status["reason"]) == ("Failed", "PodFailed")
    assert "nope" in status["message"]
    assert time.monotonic() - started < 30  # well before startDeadlineSeconds


def _log_reads() -> int:
    """Reads of pod logs the API server has served (it counts them cluster-wide)."""
    return sum(n for key, n in api_requests().items() if key.endswith(" pods/log"))


@pytest.mark.parametrize(
    ("code", "expected", "log_read"),
    [
        ("result = {'fits': 'inline'}", {"fits": "inline"}, False),
        ("result = ['x' * 1000 for _ in range(20)]", ["x" * 1000] * 20, True),
    ],
    ids=["small-inline", "large-from-the-log"],
)
def test_a_small_result_comes_inline_and_a_large_one_from_the_pod_log(
    apply_execution: Apply, wait_phase: Wait, code: str, expected: Any, log_read: bool
) -> None:
    before = _log_reads()
    apply_execution("sized", {"code": code})
    assert wait_phase("sized")["result"] == expected
    assert (_log_reads() > before) is log_read
