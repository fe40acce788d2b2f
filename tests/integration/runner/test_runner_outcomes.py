"""Every outcome of the runner, from real runs of `python -m execution_runner`."""

from __future__ import annotations

import hashlib
import json
import textwrap

from execution_runner import protocol
from execution_runner.output import MAX_LOG_LINE_BYTES
from execution_runner.protocol import ExitStatus, Reason

from tests.integration.runner.harness import (
    Payload,
    Workdir,
    plain_interpreter,
    run_payload,
    run_prepared,
)


def code(text: str) -> str:
    return textwrap.dedent(text).lstrip()


def test_completed_result_global_wins_over_prints(workdir: Workdir) -> None:
    run = run_payload(
        workdir,
        Payload(
            code(
                """
                print("before")
                print('{"not": "the result"}')
                result = {"sum": sum(data["xs"]), "type": payload_type}
                print('{"also": "not the result"}')
                """
            ),
            data={"xs": [1, 2, 3]},
            payload_type="numbers",
        ),
    )
    assert run.returncode == ExitStatus.COMPLETED
    assert run.result == {"sum": 6, "type": "numbers"}
    term = run.termination
    assert (term["code"], term["reason"]) == (200, Reason.COMPLETED)
    assert term["resultSha256"] == run.framed["sha256"] == protocol.result_sha256(run.result)
    assert term["resultBytes"] == len(protocol.canonical_json(run.result))
    assert term[protocol.TerminationKey.RESULT] == run.result  # small: inline as well
    assert set(term["metrics"]) == {
        "executionMs",
        "peakRssBytes",
        "cpuUserSeconds",
        "cpuSystemSeconds",
    }
    assert term["metrics"]["peakRssBytes"] > 1_000_000
    assert term["logs"] == dict.fromkeys(protocol.LOGS_COUNTER_KEYS, 0)
    assert term["startedAt"].endswith("Z")
    # Every printed line is a log (mirrored), the framed result is the very last line.
    assert run.log_lines == ["before", '{"not": "the result"}', '{"also": "not the result"}']


def test_framed_line_is_exactly_result_and_sha256(workdir: Workdir) -> None:
    run = run_payload(workdir, Payload("result = {'b': 'é', 'a': [1.5, None]}"))
    canonical = json.dumps(
        {"a": [1.5, None], "b": "é"}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert run.framed == {
        "execution_result": {"a": [1.5, None], "b": "é"},
        "sha256": hashlib.sha256(canonical.encode()).hexdigest(),
    }


def test_seed_style_last_stdout_line_is_the_result(workdir: Workdir) -> None:
    run = run_payload(
        workdir,
        Payload(
            code(
                """
                import json
                print("working")
                print(json.dumps({"answer": data * 2}))
                print("   ")
                """
            ),
            data=21,
        ),
    )
    assert run.reason == Reason.COMPLETED
    assert run.result == {"answer": 42}
    # The result line is not a log; blank lines after it do not displace it.
    assert "working" in run.log_lines
    assert not any("answer" in line for line in run.log_lines)


def test_non_json_last_line_is_a_log_and_result_is_null(workdir: Workdir) -> None:
    run = run_payload(workdir, Payload("print('all done')"))
    assert run.reason == Reason.COMPLETED
    assert run.result is None
    assert run.log_lines == ["all done"]


def test_require_result_without_result_is_invalid_result(workdir: Workdir) -> None:
    run = run_payload(workdir, Payload("print('all done')", config={"requireResult": True}))
    assert (run.termination["code"], run.reason) == (400, Reason.INVALID_RESULT)
    assert run.returncode == ExitStatus.USER_FAILURE
    assert "result" in run.termination["message"]
    assert run.log_lines == ["all done"]


def test_unserialisable_result_is_invalid_result(workdir: Workdir) -> None:
    run = run_payload(workdir, Payload("result = {'s': {1, 2}}"))
    assert (run.termination["code"], run.reason) == (400, Reason.INVALID_RESULT)
    assert "set" in run.termination["message"]
    assert run.result is None


def test_nan_result_is_invalid_result(workdir: Workdir) -> None:
    run = run_payload(workdir, Payload("result = float('nan')"))
    assert run.reason == Reason.INVALID_RESULT


def test_result_too_large_from_global_and_from_last_line(workdir: Workdir) -> None:
    big = run_payload(workdir, Payload("result = 'x' * 5000", config={"maxResultBytes": 1000}))
    assert (big.termination["code"], big.reason) == (400, Reason.RESULT_TOO_LARGE)
    assert "5002" in big.termination["message"]
    assert big.result is None
    line = run_payload(
        workdir,
        Payload("import json; print(json.dumps(['y' * 5000]))", config={"maxResultBytes": 1000}),
    )
    assert line.reason == Reason.RESULT_TOO_LARGE


def test_user_error_traceback_has_only_user_frames(workdir: Workdir) -> None:
    run = run_payload(
        workdir,
        Payload(
            code(
                """
                def inner(x):
                    raise ValueError(f"bad value {x}")

                print("about to fail")
                inner(data)
                """
            ),
            data=7,
        ),
    )
    assert run.returncode == ExitStatus.USER_FAILURE
    term = run.termination
    assert (term["code"], term["reason"]) == (400, Reason.USER_ERROR)
    assert "ValueError: bad value 7" in term["message"]
    error = term["error"]
    assert error["type"] == "ValueError"
    assert error["message"] == "bad value 7"
    assert 'code.py", line 5, in <module>' in error["traceback"]
    assert 'code.py", line 2, in inner' in error["traceback"]
    assert "bootstrap" not in error["traceback"]
    assert run.framed["error"] == error
    assert run.result is None


def test_syntax_error_is_user_error_with_traceback(workdir: Workdir) -> None:
    run = run_payload(workdir, Payload("x = 1\ndef broken(:\n    pass\n"))
    assert run.reason == Reason.USER_ERROR
    error = run.termination["error"]
    assert error["type"] == "SyntaxError"
    assert 'code.py", line 2' in error["traceback"]
    assert "bootstrap" not in error["traceback"]


def test_recursion_error_is_user_error(workdir: Workdir) -> None:
    run = run_payload(workdir, Payload("def f(n):\n    return f(n + 1)\nf(0)\n"))
    assert run.reason == Reason.USER_ERROR
    assert run.termination["error"]["type"] == "RecursionError"


def test_sys_exit_zero_completes_and_nonzero_fails(workdir: Workdir) -> None:
    ok = run_payload(workdir, Payload("import sys\nresult = 1\nsys.exit(0)\n"))
    assert (ok.reason, ok.result) == (Reason.COMPLETED, 1)
    failed = run_payload(workdir, Payload("import sys\nsys.exit(3)\n"))
    assert failed.reason == Reason.USER_ERROR
    assert failed.termination["error"]["type"] == "SystemExit"


def test_exit_functions_the_code_registers_run_as_at_interpreter_exit(workdir: Workdir) -> None:
    code = textwrap.dedent(
        """\
        import atexit
        atexit.register(lambda: print("exit function ran"))
        result = True
        """
    )
    run = run_payload(workdir, Payload(code))
    assert (run.reason, run.result) == (Reason.COMPLETED, True)
    assert run.log_lines[-1] == "exit function ran"


def test_the_code_sees_the_site_packages_of_a_plain_interpreter(workdir: Workdir) -> None:
    # What a plain `python3 -I` puts on sys.path (site-packages, .pth entries) the code sees too.
    plain = plain_interpreter("sys.path")
    run = run_payload(workdir, Payload("import sys\nresult = sys.path\n"))
    assert run.reason == Reason.COMPLETED
    missing = [entry for entry in plain if entry not in run.result]
    assert not missing


def test_os_exit_nonzero_is_user_error(workdir: Workdir) -> None:
    run = run_payload(workdir, Payload("import os\nos._exit(5)\n"))
    assert run.reason == Reason.USER_ERROR
    assert "status 5" in run.termination["message"]


def test_sigkill_not_sent_by_runner_is_reported_honestly(workdir: Workdir) -> None:
    run = run_payload(workdir, Payload("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"))
    assert run.reason in (Reason.USER_ERROR, Reason.OOM_KILLED)
    assert "SIGKILL" in run.termination["message"] or run.reason == Reason.OOM_KILLED
    assert run.reason != Reason.TIMEOUT


def test_timeout_stops_the_code(workdir: Workdir) -> None:
    run = run_payload(
        workdir,
        Payload(
            "import time\nprint('started', flush=True)\ntime.sleep(60)\n",
            config={"timeoutSeconds": 1},
        ),
    )
    assert run.returncode == ExitStatus.SYSTEM_FAILURE
    assert (run.termination["code"], run.reason) == (500, Reason.TIMEOUT)
    assert "timeoutSeconds (1 s)" in run.termination["message"]
    assert 1000 <= run.termination["metrics"]["executionMs"] < 5000
    assert run.seconds < 10
    assert run.log_lines == ["started"]


def test_structured_logging_records(workdir: Workdir) -> None:
    run = run_payload(
        workdir,
        Payload(
            code(
                """
                import logging
                logging.getLogger("app.worker").info("processed %d rows", 3, extra={"job": "j1"})
                logging.getLogger("app").debug("not shown at INFO")
                logging.warning("careful")
                """
            )
        ),
    )
    records = run.stderr_json()
    info = next(r for r in records if r["logger_name"] == "app.worker")
    assert info["level"] == "INFO"
    assert info["message"] == "processed 3 rows"
    assert info["job"] == "j1"
    assert info["timestamp"].endswith("Z")
    assert "T" in info["timestamp"]
    assert any(r["level"] == "WARNING" and r["logger_name"] == "root" for r in records)
    assert not any("not shown" in r["message"] for r in records)


def test_long_lines_are_truncated_with_a_marker(workdir: Workdir) -> None:
    run = run_payload(workdir, Payload("import sys\nprint('z' * 200000, file=sys.stderr)\n"))
    line = next(line for line in run.stderr.splitlines() if line.startswith("zzz"))
    assert len(line) < MAX_LOG_LINE_BYTES + 200
    assert "[truncated: line of 200000 bytes" in line


def test_input_data_file_is_the_data(workdir: Workdir) -> None:
    run = run_payload(
        workdir,
        Payload(
            "result = [data, payload_type]",
            input_json='{"payload_type": "csv"}',
            extra_files={protocol.INPUT_DATA_FILE: '{"rows": [1, 2]}'},
        ),
    )
    assert run.result == [{"rows": [1, 2]}, "csv"]


def test_missing_runner_json_and_input_take_defaults(workdir: Workdir) -> None:
    workdir.write_payload(
        Payload(
            "import resource\nresult = [data, resource.getrlimit(resource.RLIMIT_STACK)]",
            config=None,
        )
    )
    (workdir.payload / protocol.INPUT_FILE).unlink()
    run = run_prepared(workdir)
    assert run.result == [{}, [protocol.DEFAULT_STACK_BYTES, protocol.DEFAULT_STACK_BYTES]]


def test_malformed_runner_json_is_runner_error_naming_the_key(workdir: Workdir) -> None:
    run = run_payload(workdir, Payload("result = 1", config={"rlimits": {"memory": "lots"}}))
    assert run.returncode == ExitStatus.RUNNER_ERROR
    assert (run.termination["code"], run.reason) == (500, Reason.RUNNER_ERROR)
    assert "rlimits.memory" in run.termination["message"]
    assert run.result is None


def test_rlimit_beyond_what_the_kernel_takes_is_runner_error_naming_it(workdir: Workdir) -> None:
    # 99999Ei: more than a C long holds; never blamed on the code (exit status 1).
    huge = 99999 * 2**60
    run = run_payload(workdir, Payload("result = 1", config={"rlimits": {"memory": huge}}))
    assert (run.termination["code"], run.reason) == (500, Reason.RUNNER_ERROR), run.termination
    assert "rlimits.memory" in run.termination["message"]
    assert run.result is None


def test_invalid_input_json_is_runner_error(workdir: Workdir) -> None:
    run = run_payload(workdir, Payload("result = 1", input_json="{not json"))
    assert run.reason == Reason.RUNNER_ERROR
    assert "input.json is not valid JSON" in run.termination["message"]


def test_missing_code_is_runner_error(workdir: Workdir) -> None:
    workdir.write_payload(Payload("result = 1"))
    (workdir.payload / protocol.CODE_FILE).unlink()
    run = run_prepared(workdir)
    assert run.reason == Reason.RUNNER_ERROR
    assert "code.py" in run.termination["message"]


def test_huge_traceback_keeps_termination_message_within_4096_bytes(workdir: Workdir) -> None:
    run = run_payload(workdir, Payload("raise RuntimeError('e' * 100000)"))
    assert run.reason == Reason.USER_ERROR
    assert len(run.workdir.joinpath("out/termination-log").read_bytes()) <= 4096
    # The framed line carries the full error.
    assert len(run.framed["error"]["message"]) >= 60000
