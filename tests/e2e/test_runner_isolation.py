"""The real runner image resists user-controlled start-up state (tenant isolation).

The pod carries PYTHONPYCACHEPREFIX=/tmp/pyc on the container, as `spec.env` once
put it there, and a log API key; the code plants unchecked-hash .pyc files for the
runner's modules under /tmp/pyc and modules in /tmp (the runner's cwd). The
runner, started isolated, never imports them: the key never reaches the logs or
the termination message, and the outcome is the code's own.
"""

from __future__ import annotations

from execution_runner import protocol
from kubernetes import client

from tests.support import pyc_attack
from tests.support.runner_pod import run_runner_pod

LOGS_KEY = "logs-key-e2e-0123456789"
# Where the image keeps the runner package (runner_image/Dockerfile).
IMAGE_PACKAGE_DIR = "/opt/execution-runner/execution_runner"


def test_planted_bytecode_never_hijacks_the_runner_image(
    core: client.CoreV1Api, namespace: str, runner_image: str
) -> None:
    outcome = run_runner_pod(
        core,
        namespace,
        "pyc-attack",
        runner_image,
        pyc_attack.CODE,
        data=pyc_attack.attack_data("/tmp/pyc", IMAGE_PACKAGE_DIR),
        # A dead endpoint: the collector's modules load after the run (lazy imports).
        runner={"logs": {"endpoint": "http://127.0.0.1:9/logs"}, "killGraceSeconds": 1},
        env=[
            {"name": "PYTHONPYCACHEPREFIX", "value": "/tmp/pyc"},
            {"name": protocol.LOGS_API_KEY_ENV, "value": LOGS_KEY},
        ],
    )

    assert (outcome.phase, outcome.exit_code) == ("Succeeded", 0), outcome.log
    assert outcome.termination["reason"] == "Completed"
    result = protocol.parse_framed_result(outcome.last_line)
    assert result["runnerFiles"] > 10  # the runner's own modules were shadowed
    for text in (outcome.log, str(outcome.termination)):
        assert pyc_attack.MARK not in text
        assert LOGS_KEY not in text
