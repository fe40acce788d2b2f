"""A runner pod ships its code's output to a real log backend inside the cluster's network."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from execution_runner import protocol
from execution_runner.collector.backend_client import LOGS_BATCH_ID_HEADER, LOGS_WORKSPACE_HEADER
from execution_runner.redact import REDACTED
from kubernetes import client

from tests.support import kube
from tests.support.netns_backend import NetnsLogBackend
from tests.support.runner_pod import PodOutcome, run_runner_pod

API_KEY = "e2e-api-key-7f3d2c"
WORKSPACE = "e2e-workspace"
ATTRIBUTES = {"optimization_id": "opt-e2e", "job_id": "job-e2e"}
EXECUTION = {"namespace": "team-e2e", "name": "train", "uid": "0b6f0e9c-e2e0", "attempt": 1}
LINES = 10_000


def _logs_credentials(core: client.CoreV1Api, namespace: str) -> list[dict[str, Any]]:
    """The Secret of `logs.credentialsSecretRef` and the runner's env that refers to it."""
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="logs-creds"),
            string_data={"apiKey": API_KEY, "workspace": WORKSPACE},
        ),
    )
    return [
        {"name": name, "valueFrom": {"secretKeyRef": {"name": "logs-creds", "key": key}}}
        for name, key in (
            (protocol.LOGS_API_KEY_ENV, "apiKey"),
            (protocol.LOGS_WORKSPACE_ENV, "workspace"),
        )
    ]


def _runner_config(backend: NetnsLogBackend, **extra: Any) -> dict[str, Any]:
    return {
        "timeoutSeconds": 20,
        "execution": EXECUTION,
        "logs": {"endpoint": backend.url, "attributes": ATTRIBUTES},
        **extra,
    }


def test_every_line_reaches_the_backend_once_in_order_with_identity(
    core: client.CoreV1Api, namespace: str, runner_image: str, pod_log_backend: NetnsLogBackend
) -> None:
    code = (
        f"for i in range({LINES}):\n    print(f'line {{i:05d}}')\nresult = {{'lines': {LINES}}}\n"
    )
    outcome = run_runner_pod(
        core,
        namespace,
        "chatty",
        runner_image,
        code,
        runner=_runner_config(pod_log_backend),
        env=_logs_credentials(core, namespace),
    )

    assert (outcome.phase, outcome.termination["reason"]) == ("Succeeded", "Completed")
    assert protocol.parse_framed_result(outcome.last_line) == {"lines": LINES}
    expected = [f"line {i:05d}" for i in range(LINES)]
    # The final flush happened before the runner exited, so everything is there already.
    requests = pod_log_backend.requests()
    records = pod_log_backend.records()
    assert [r["message"] for r in records] == expected  # every line, in order, exactly once
    assert all(r["status"] == 200 for r in requests)
    batch_ids = [r["headers"][LOGS_BATCH_ID_HEADER.lower()] for r in requests]
    assert len(set(batch_ids)) == len(batch_ids)  # no batch was sent twice
    for request in requests:
        headers = request["headers"]
        assert headers["authorization"] == f"Bearer {API_KEY}"
        assert headers[LOGS_WORKSPACE_HEADER.lower()] == WORKSPACE
        assert headers["content-encoding"] == "gzip"
        assert {k: request["body"][k] for k in ATTRIBUTES} == ATTRIBUTES
    identity = {
        **ATTRIBUTES,
        "execution_namespace": EXECUTION["namespace"],
        "execution_name": EXECUTION["name"],
        "execution_uid": EXECUTION["uid"],
        "execution_attempt": str(EXECUTION["attempt"]),
        "execution_pod": outcome.name,  # downward API: metadata.name
        "execution_node": outcome.node,  # downward API: spec.nodeName
        "stream": "stdout",
    }
    assert outcome.node
    for record in (records[0], records[LINES // 2], records[-1]):
        assert record["attributes"] == identity
        assert (record["level"], record["logger_name"]) == ("INFO", "stdout")
    assert all(r["attributes"]["execution_pod"] == outcome.name for r in records)

    # The counters in the termination message tell the same story.
    logs = outcome.termination["logs"]
    assert logs["records"] == LINES
    assert logs["batches"] == len(requests)
    assert logs["failedBatches"] == logs["dropped"] == 0
    assert logs["bytes"] >= sum(len(line) for line in expected)
    # Mirrored as well: the container log has every line, then the result line.
    assert outcome.log_lines[:-1] == expected


SECRET = "hunter2-e2e-secret-value"


def _kubectl_logs(namespace: str, pod: str) -> str:
    return subprocess.run(
        ["kubectl", "--kubeconfig", kube.kubeconfig_path(), "-n", namespace, "logs", pod],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _assert_redacted(where: str, text: str) -> None:
    assert SECRET not in text, f"the secret value leaked into {where}"
    assert API_KEY not in text, f"the log API key leaked into {where}"
    assert REDACTED in text, f"{where} shows no redaction"


def test_a_secret_value_printed_by_the_code_is_redacted_everywhere(
    core: client.CoreV1Api, namespace: str, runner_image: str, pod_log_backend: NetnsLogBackend
) -> None:
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(metadata=client.V1ObjectMeta(name="app"), string_data={"token": SECRET}),
    )
    env = [
        *_logs_credentials(core, namespace),
        {
            "name": protocol.env_marker_name("API_TOKEN"),
            "valueFrom": {"secretKeyRef": {"name": "app", "key": "token"}},
        },
    ]
    code = (
        "import logging, os, sys\n"
        "token = os.environ['API_TOKEN']\n"
        "print(f'token={token}', flush=True)\n"
        "print(f'stderr token {token}', file=sys.stderr, flush=True)\n"
        "logging.getLogger('app').warning('calling with %s', token, extra={'token': token})\n"
        "raise PermissionError(f'the service rejected {token}')\n"
    )
    outcome: PodOutcome = run_runner_pod(
        core,
        namespace,
        "leaky",
        runner_image,
        code,
        runner=_runner_config(pod_log_backend, secretEnv=["API_TOKEN"]),
        env=env,
    )

    assert outcome.termination["reason"] == "UserError"
    assert outcome.termination["error"]["type"] == "PermissionError"
    # The API key legitimately travels in the Authorization header; bodies must not hold it.
    shipped = json.dumps([request["body"] for request in pod_log_backend.requests()])
    _assert_redacted("the log backend", shipped)
    assert len(pod_log_backend.records()) == outcome.termination["logs"]["records"] == 3
    _assert_redacted("kubectl logs", _kubectl_logs(namespace, outcome.name))
    _assert_redacted("the termination message", json.dumps(outcome.termination))
    assert f"token={REDACTED}" in outcome.log_lines
