"""Code that attacks or confuses its runner gets a user outcome (400), never a 500 or a retry."""

from __future__ import annotations

import json
import textwrap

from execution_runner.protocol import ExitStatus, Reason

from tests.integration.runner.harness import Payload, Workdir, run_payload

# Writes `text` to every pipe the code holds besides stdin/stdout/stderr: the report fd.
WRITE_TO_REPORT_FD = textwrap.dedent(
    """
    import os
    def write_report(text):
        for fd in range(3, 64):
            try:
                if os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:"):
                    os.write(fd, text.encode())
            except OSError:
                continue
    """
)


def test_sigterm_from_the_code_to_its_runner_is_a_user_error(workdir: Workdir) -> None:
    code = textwrap.dedent(
        """
        import os, signal, time
        print("sending", flush=True)
        os.kill(os.getppid(), signal.SIGTERM)
        time.sleep(30)
        result = "never"
        """
    )
    run = run_payload(workdir, Payload(code, config={"killGraceSeconds": 1}))
    assert (run.termination["code"], run.reason) == (400, Reason.USER_ERROR)
    assert "sent SIGTERM to its runner" in run.termination["message"]
    assert run.returncode == ExitStatus.USER_FAILURE
    assert run.seconds < 15  # stopped, not left to sleep
    assert "sending" in run.log_lines


def test_sigterm_from_a_process_the_code_forked_is_a_user_error(workdir: Workdir) -> None:
    code = textwrap.dedent(
        """
        import os, signal, time
        runner = os.getppid()
        if os.fork() == 0:
            os.setsid()  # another session: still the code's
            os.kill(runner, signal.SIGINT)
            time.sleep(30)
            os._exit(0)
        time.sleep(30)
        """
    )
    run = run_payload(workdir, Payload(code, config={"killGraceSeconds": 1}))
    assert (run.termination["code"], run.reason) == (400, Reason.USER_ERROR)
    assert "sent SIGINT to its runner" in run.termination["message"]


def test_forged_bootstrap_error_after_the_code_started_is_a_user_error(workdir: Workdir) -> None:
    code = WRITE_TO_REPORT_FD + textwrap.dedent(
        """
        write_report('{"status": "bootstrapError", "message": "the runner is broken"}')
        os._exit(0)
        """
    )
    run = run_payload(workdir, Payload(code))
    assert (run.termination["code"], run.reason) == (400, Reason.USER_ERROR)
    assert "report channel" in run.termination["message"]
    assert "the runner is broken" not in run.termination["message"]


def test_garbage_on_the_report_channel_is_a_user_error(workdir: Workdir) -> None:
    code = WRITE_TO_REPORT_FD + 'write_report(\'{"status": "error", "error": 7}\')\nresult = 1\n'
    run = run_payload(workdir, Payload(code))
    assert (run.termination["code"], run.reason) == (400, Reason.USER_ERROR)


def test_a_real_bootstrap_failure_is_still_a_runner_error(workdir: Workdir) -> None:
    # A limit the kernel refuses fails before the code starts: the runner's (or the spec's) fault.
    run = run_payload(workdir, Payload("result = 1", config={"rlimits": {"openFiles": 1 << 40}}))
    assert (run.termination["code"], run.reason) == (500, Reason.RUNNER_ERROR)
    assert "rlimits.openFiles" in run.termination["message"]


def test_unencodable_exception_text_is_a_user_error_with_a_valid_report(
    workdir: Workdir,
) -> None:
    code = 'print("bad", "\\udc80")\nraise ValueError("\\udc80 and \\ud800" + "x" * 100_000)\n'
    run = run_payload(workdir, Payload(code))
    raw = run.workdir.joinpath("out/termination-log").read_bytes()
    assert len(raw) <= 4096
    report = json.loads(raw.decode("utf-8"))  # strict UTF-8: no lone surrogates
    assert (report["code"], report["reason"]) == (400, Reason.USER_ERROR)
    assert report["error"]["type"] == "ValueError"
    assert run.framed["error"]["type"] == "ValueError"
