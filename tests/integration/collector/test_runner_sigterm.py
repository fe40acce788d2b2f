"""SIGTERM mid-run: what the code printed before the signal reaches the backend."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import execution_runner
import pytest
from execution_runner import protocol

from tests.support.log_backend import LogBackend

from .conftest import API_KEY, ATTRIBUTES, IDENTITY

LINES = 2000
RUNNER_DIR = Path(execution_runner.__file__).parent
OWN_MODULES = {"collector.py"}


def runner_ships_logs() -> bool:
    """The runner's entry point builds the collector (not only the null sink)."""
    return any(
        "LogCollector" in path.read_text()
        for path in RUNNER_DIR.glob("*.py")
        if path.name not in OWN_MODULES
    )


pytestmark = pytest.mark.skipif(
    not runner_ships_logs(), reason="the runner does not build the log collector yet"
)

CODE = f"""
import sys, time
for i in range({LINES}):
    print(f"before {{i}}", flush=True)
print("held back as a possible result", flush=True)
print("READY", file=sys.stderr, flush=True)
time.sleep(60)
"""


def write_payload(directory: Path, endpoint: str) -> None:
    (directory / protocol.CODE_FILE).write_text(CODE)
    (directory / protocol.INPUT_FILE).write_text(json.dumps({"data": {}, "payload_type": None}))
    runner_json = {
        "timeoutSeconds": 60,
        # Nothing is due before the signal: only the final flush can deliver.
        "logs": {"endpoint": endpoint, "attributes": ATTRIBUTES, "flushIntervalMillis": 60_000},
        "execution": {k: IDENTITY[k] for k in ("namespace", "name", "uid", "attempt")},
    }
    (directory / protocol.RUNNER_CONFIG_FILE).write_text(json.dumps(runner_json))


def test_sigterm_mid_run_flushes_what_was_printed_before_it(
    backend: LogBackend, tmp_path: Path
) -> None:
    payload = tmp_path / "payload"
    payload.mkdir()
    write_payload(payload, backend.url)
    termination_log = tmp_path / "termination-log"
    env = {
        **os.environ,
        protocol.PAYLOAD_DIR_ENV: str(payload),
        protocol.TERMINATION_LOG_ENV: str(termination_log),
        protocol.LOGS_API_KEY_ENV: API_KEY,
        protocol.POD_NAME_ENV: IDENTITY["pod"],
        "PYTHONPATH": str(RUNNER_DIR.parent),
    }
    runner = subprocess.Popen(
        [sys.executable, "-m", "execution_runner"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert runner.stderr is not None
        while (line := runner.stderr.readline()) and line.strip() != b"READY":
            pass
        assert line.strip() == b"READY"
        signalled = time.monotonic()
        runner.send_signal(signal.SIGTERM)
        runner.communicate(timeout=30)
        took = time.monotonic() - signalled
    finally:
        runner.kill()

    messages = [r["message"] for r in backend.records()]
    assert messages[:LINES] == [f"before {i}" for i in range(LINES)]
    summary = json.loads(termination_log.read_text())
    assert summary[protocol.TerminationKey.REASON] == protocol.Reason.CANCELLED
    logs = summary[protocol.TerminationKey.LOGS]
    assert logs["records"] == len(messages) >= LINES
    assert logs["dropped"] == logs["failedBatches"] == 0
    assert took < protocol.DEFAULT_KILL_GRACE_SECONDS + 10
