"""Termination message shaping and the pure pieces of output handling."""

from __future__ import annotations

import json

from execution_runner import protocol
from execution_runner.outcome import Outcome
from execution_runner.output import LineSplitter, log_text
from execution_runner.procs import parse_stat, related_pids
from execution_runner.protocol import ExitStatus, Reason
from execution_runner.protocol import zero_log_counters as zero_counters
from execution_runner.report import TRUNCATION_MARK, exit_status, fit, termination_document


def _doc(traceback: str, message: str = "boom") -> dict[str, object]:
    return {
        "code": 400,
        "reason": "UserError",
        "message": "The code raised ValueError: boom.",
        "error": {"type": "ValueError", "message": message, "traceback": traceback},
    }


def test_small_document_is_unchanged() -> None:
    doc = _doc("Traceback: short")
    assert json.loads(fit(doc)) == doc


def test_long_traceback_keeps_its_end_and_fits() -> None:
    traceback = "".join(f'  File "code.py", line {i}\n' for i in range(2000)) + "ValueError: last"
    data = fit(_doc(traceback))
    assert len(data) <= protocol.TERMINATION_MESSAGE_MAX_BYTES
    shortened = json.loads(data)["error"]["traceback"]
    assert shortened.startswith(TRUNCATION_MARK)
    assert shortened.endswith("ValueError: last")
    assert len(data) > protocol.TERMINATION_MESSAGE_MAX_BYTES - 200  # uses the room it has


def test_multibyte_and_escaped_texts_still_fit() -> None:
    data = fit(_doc("é\n\t\x01" * 5000, message="ü" * 5000), max_bytes=1000)
    assert len(data) <= 1000
    parsed = json.loads(data)
    assert parsed["error"]["message"].endswith(TRUNCATION_MARK)


def test_error_is_dropped_when_nothing_else_fits() -> None:
    doc = {**_doc("t" * 100), "message": "m" * 100}
    data = fit(doc, max_bytes=120)
    assert len(data) <= 120
    assert "error" not in json.loads(data)


def test_exit_statuses() -> None:
    assert exit_status(Reason.COMPLETED) == ExitStatus.COMPLETED == 0
    assert exit_status(Reason.MEMORY_LIMIT_EXCEEDED) == ExitStatus.USER_FAILURE
    assert exit_status(Reason.TIMEOUT) == ExitStatus.SYSTEM_FAILURE
    assert exit_status(Reason.CANCELLED) == ExitStatus.SYSTEM_FAILURE
    assert exit_status(Reason.RUNNER_ERROR) == ExitStatus.RUNNER_ERROR


def test_framed_result_round_trips_with_error() -> None:
    line = protocol.frame_result(None, {"type": "E", "message": "m", "traceback": "t"})
    assert protocol.parse_framed_result(line) is None
    assert json.loads(line)["error"]["type"] == "E"


def test_line_splitter_caps_and_counts() -> None:
    splitter = LineSplitter(keep=4)
    lines = splitter.feed(b"ab\ncdefgh") + splitter.feed(b"ij\n") + splitter.feed(b"tail")
    lines += splitter.finish()
    assert [(line.data, line.length) for line in lines] == [(b"ab", 2), (b"cdef", 8), (b"tail", 4)]
    assert lines[1].truncated
    assert log_text(lines[1], max_bytes=3) == "cde [truncated: line of 8 bytes exceeded 3]"


def test_parse_stat_handles_odd_command_names() -> None:
    info = parse_stat("42 (a) b (c)) S 7 40 39 0 -1")
    assert (info.pid, info.ppid, info.pgrp, info.session, info.zombie) == (42, 7, 40, 39, False)
    assert parse_stat("43 (x) Z 1 43 43 0").zombie


def test_related_pids_follow_descendants_group_and_session() -> None:
    infos = [
        parse_stat("10 (runner) S 1 10 10"),
        parse_stat("11 (child) S 10 11 11"),
        parse_stat("12 (daemon) S 10 12 12"),  # re-parented to the runner (subreaper)
        parse_stat("13 (grandchild) S 12 12 12"),
        parse_stat("14 (other) S 1 11 11"),  # in the child's group, parent elsewhere
        parse_stat("15 (zombie) Z 11 11 11"),
        parse_stat("99 (unrelated) S 1 99 99"),
    ]
    assert related_pids(infos, runner_pid=10, child_pid=11) == {11, 12, 13, 14}


def _completed(result: object) -> bytes:
    outcome = Outcome(Reason.COMPLETED, "The code completed.", result=result)
    return fit(termination_document(outcome, None, zero_counters()))


def test_small_result_travels_inline_with_its_checksum() -> None:
    result = {"greeting": "hello", "values": list(range(100))}
    message = json.loads(_completed(result))
    assert message[protocol.TerminationKey.RESULT] == result
    assert message[protocol.TerminationKey.RESULT_SHA256] == protocol.result_sha256(result)
    assert message[protocol.TerminationKey.RESULT_BYTES] == len(protocol.canonical_json(result))


def test_result_that_does_not_fit_is_left_to_the_framed_line() -> None:
    result = {"blob": "x" * 5000}
    data = _completed(result)
    message = json.loads(data)
    assert len(data) <= protocol.TERMINATION_MESSAGE_MAX_BYTES
    assert protocol.TerminationKey.RESULT not in message
    assert message[protocol.TerminationKey.RESULT_SHA256] == protocol.result_sha256(result)
    assert message[protocol.TerminationKey.MESSAGE] == "The code completed."


def test_null_result_is_inline_and_failures_carry_none() -> None:
    assert json.loads(_completed(None))[protocol.TerminationKey.RESULT] is None
    failed = Outcome(Reason.USER_ERROR, "The code raised E: x.")
    message = json.loads(fit(termination_document(failed, None, zero_counters())))
    assert protocol.TerminationKey.RESULT not in message
