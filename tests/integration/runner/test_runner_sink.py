"""Lines reach the log sink redacted, the result line does not, and its counters are reported."""

from __future__ import annotations

import json
import textwrap
import time

from execution_runner.protocol import Reason
from execution_runner.redact import REDACTED

from tests.integration.runner.harness import (
    Payload,
    Workdir,
    finish,
    start_runner,
    user_env,
)


def test_sink_gets_every_log_line_but_not_the_result(workdir: Workdir) -> None:
    code = textwrap.dedent(
        """
        import json, logging, os, sys
        print("one")
        print("token", os.environ["TOKEN"], file=sys.stderr)
        logging.getLogger("app").info("structured")
        print()
        print(json.dumps({"r": 1}))
        """
    )
    config = {
        "env": ["TOKEN"],
        "secretEnv": ["TOKEN"],
        "execution": {"namespace": "ns", "name": "hello", "uid": "u-1", "attempt": 2},
    }
    workdir.write_payload(Payload(code, config=config))
    record_file = workdir.tmp / "sink.json"
    env = {
        **user_env({"TOKEN": "very-secret-token"}),
        "RECORDING_SINK_FILE": str(record_file),
    }
    started = time.monotonic()
    run = finish(
        start_runner(workdir, env, module="tests.integration.runner.recording_runner"),
        workdir,
        started,
    )
    assert (run.reason, run.result) == (Reason.COMPLETED, {"r": 1})
    recorded = json.loads(record_file.read_text())
    assert recorded["started"] is True
    assert recorded["execution"] == {
        "namespace": "ns",
        "name": "hello",
        "uid": "u-1",
        "attempt": "2",
    }
    lines = recorded["lines"]
    assert ["stdout", "one"] in lines
    assert ["stderr", f"token {REDACTED}"] in lines
    structured = [json.loads(line) for stream, line in lines if line.startswith("{")]
    assert [r["message"] for r in structured] == ["structured"]
    # Neither the blank line nor the result line is a record.
    assert len(lines) == 3
    assert run.termination["logs"] == {
        "records": 3,
        "bytes": sum(len(line) for _, line in lines),
        "batches": 1,
        "failedBatches": 0,
        "dropped": 0,
    }
