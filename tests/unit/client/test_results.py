"""The in-process executor's return shapes, from Execution statuses."""

from __future__ import annotations

from execution_operator.client._results import shape
from execution_operator.client.handle import _is_frame
from execution_runner import protocol

TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/var/run/execution/code.py", line 2, in <module>\n'
    "    1 / 0\n"
    "ZeroDivisionError: division by zero\n"
)


def test_success_is_the_result_itself() -> None:
    status = {"phase": "Succeeded", "code": 200, "result": {"scores": [1]}}
    assert shape("e", status) == {"scores": [1]}
    assert shape("e", {"phase": "Succeeded", "code": 200, "result": None}) is None


def test_user_error_is_a_400_with_the_traceback() -> None:
    status = {
        "phase": "Failed",
        "reason": "UserError",
        "code": 400,
        "message": "The code raised ZeroDivisionError.",
        "error": {
            "type": "ZeroDivisionError",
            "message": "division by zero",
            "traceback": TRACEBACK,
        },
    }
    result = shape("e", status)
    assert result["code"] == 400
    assert result["error"].startswith(TRACEBACK.rstrip())
    assert result["error"].count("ZeroDivisionError: division by zero") == 1
    assert "UserError" in result["error"]


def test_error_without_a_traceback_keeps_type_and_message() -> None:
    status = {
        "phase": "Failed",
        "reason": "UserError",
        "code": 400,
        "message": "m",
        "error": {"type": "KeyError", "message": "'x'"},
    }
    assert shape("e", status) == {"code": 400, "error": "KeyError: 'x'\n(UserError: m)"}


def test_timeout_and_cancel_and_unknown_codes_are_500() -> None:
    timeout = {"phase": "Failed", "reason": "Timeout", "code": 500, "message": "Ran over 2 s."}
    assert shape("e", timeout) == {"code": 500, "error": "Timeout: Ran over 2 s."}
    cancelled = {"phase": "Cancelled", "reason": "Cancelled", "message": "Cancelled."}
    assert shape("e", cancelled)["code"] == 500
    assert shape("e", {"phase": "Failed"})["code"] == 500


def test_the_runners_result_line_is_not_the_codes_output() -> None:
    assert _is_frame(protocol.frame_result({"a": 1}) + "\n")
    assert not _is_frame('{"execution_result": 1, "sha256": "forged"}')
    assert not _is_frame("tick 1")
