"""The runner image as a real pod: restricted, read-only root, payload from a ConfigMap.

What the operator will read is checked through the API: the termination
message (JSON) and the framed result line, which must be the last log line.
"""

from __future__ import annotations

from execution_runner import protocol
from kubernetes import client

from tests.support.runner_pod import run_runner_pod

HELLO = """\
import json, logging, os, sys
print("hello from the pod", flush=True)
logging.getLogger("app").warning("a structured record")
try:
    open("/not-writable", "w")
    root_writable = True
except OSError:
    root_writable = False
with open(os.path.join(os.environ["TMPDIR"], "scratch"), "w") as handle:
    handle.write("tmp is writable")
result = {
    "sum": data["a"] + data["b"],
    "payload_type": payload_type,
    "uid": os.getuid(),
    "gid": os.getgid(),
    "root_writable": root_writable,
    "env": sorted(os.environ),
    "greeting": os.environ.get("GREETING"),
    "python": sys.version_info[:2],
}
"""

BASELINE_ENV = {*protocol.BASELINE_ENV_DEFAULTS, *protocol.THREAD_CAP_ENV}


def test_hello_pod_reports_termination_message_and_framed_result(
    core: client.CoreV1Api, namespace: str, runner_image: str
) -> None:
    outcome = run_runner_pod(
        core,
        namespace,
        "hello",
        runner_image,
        HELLO,
        data={"a": 40, "b": 2},
        runner={"env": ["GREETING"], "timeoutSeconds": 20},
        env=[
            {"name": protocol.env_marker_name("GREETING"), "value": "hi"},
            {"name": "NOT_DECLARED", "value": "must not reach the code"},
        ],
    )

    assert (outcome.phase, outcome.exit_code) == ("Succeeded", 0), outcome.log
    result = protocol.parse_framed_result(outcome.last_line)  # verifies the sha256
    assert result == {
        "sum": 42,
        "payload_type": None,
        "uid": 65532,
        "gid": 65532,
        "root_writable": False,
        "env": sorted(BASELINE_ENV | {"GREETING"}),
        "greeting": "hi",
        "python": [3, 11],
    }
    termination = outcome.termination
    assert termination["code"] == 200
    assert termination["reason"] == "Completed"
    assert termination["resultSha256"] == protocol.result_sha256(result)
    assert termination["resultBytes"] == len(protocol.canonical_json(result))
    metrics = termination["metrics"]
    assert 0 < metrics["executionMs"] < 20_000
    assert metrics["peakRssBytes"] > 1_000_000
    assert metrics["cpuUserSeconds"] + metrics["cpuSystemSeconds"] > 0
    # No endpoint: lines are mirrored only, nothing shipped.
    assert termination["logs"] == dict.fromkeys(protocol.LOGS_COUNTER_KEYS, 0)
    # The code's output is mirrored to the container log, before the result line.
    assert "hello from the pod" in outcome.log_lines[:-1]
    assert any('"a structured record"' in line for line in outcome.log_lines[:-1])


def test_the_image_runs_under_any_non_root_uid(
    core: client.CoreV1Api, namespace: str, runner_image: str
) -> None:
    uid = 1_234_567  # no /etc/passwd entry, not the image's USER
    code = "import os\nopen('/tmp/x', 'w').write('ok')\nresult = [os.getuid(), os.getgid()]\n"
    outcome = run_runner_pod(core, namespace, "any-uid", runner_image, code, uid=uid)

    assert (outcome.phase, outcome.exit_code) == ("Succeeded", 0), outcome.log
    assert protocol.parse_framed_result(outcome.last_line) == [uid, uid]


def test_failing_code_is_a_user_error_with_its_traceback(
    core: client.CoreV1Api, namespace: str, runner_image: str
) -> None:
    code = "print('about to fail')\n\ndef parse(text):\n    return int(text)\n\nparse(data['n'])\n"
    outcome = run_runner_pod(
        core, namespace, "fails", runner_image, code, data={"n": "not a number"}
    )

    assert (outcome.phase, outcome.exit_code) == ("Failed", protocol.ExitStatus.USER_FAILURE)
    termination = outcome.termination
    assert (termination["code"], termination["reason"]) == (400, "UserError")
    assert "ValueError" in termination["message"]
    error = termination["error"]
    assert error["type"] == "ValueError"
    assert "not a number" in error["message"]
    traceback = error["traceback"]
    assert "code.py" in traceback
    assert "in parse" in traceback
    assert "execution_runner" not in traceback  # the user's frames only
    # The framed line still closes the log: a null result with a valid checksum and the error.
    assert protocol.parse_framed_result(outcome.last_line) is None
    assert termination["resultSha256"] == protocol.result_sha256(None)
    assert "about to fail" in outcome.log_lines[:-1]


def test_code_running_past_its_timeout_is_stopped_and_reported(
    core: client.CoreV1Api, namespace: str, runner_image: str
) -> None:
    code = (
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
        "print('started', flush=True)\n"
        "time.sleep(300)\n"
    )
    outcome = run_runner_pod(
        core,
        namespace,
        "sleeps",
        runner_image,
        code,
        runner={"timeoutSeconds": 2, "killGraceSeconds": 0.5},
    )

    assert (outcome.phase, outcome.exit_code) == ("Failed", protocol.ExitStatus.SYSTEM_FAILURE)
    termination = outcome.termination
    assert (termination["code"], termination["reason"]) == (500, "Timeout")
    assert 2000 <= termination["metrics"]["executionMs"] < 6000
    assert "started" in outcome.log_lines[:-1]
    assert protocol.parse_framed_result(outcome.last_line) is None
    # The pod ended although a grandchild slept on: the whole process tree was stopped.
    assert outcome.seconds < 25
