"""The forked child's own failures, before any user code runs, are the runner's."""

from __future__ import annotations

import os

from execution_runner import bootstrap
from execution_runner.child import SETUP_FAILED, ChildSetup, run_child
from execution_runner.child_report import parse_child_report


def test_a_child_setup_failure_is_reported_as_a_bootstrap_error() -> None:
    read, write = os.pipe()
    # stdout/stderr left at -1: redirecting fails before any user code could run.
    setup = ChildSetup("/nonexistent/code.py", {}, None, [], {"PATH": "/usr/bin:/bin"})
    pid = os.fork()
    if pid == 0:
        run_child(setup, write)  # never returns
    os.close(write)
    with os.fdopen(read, "rb") as handle:
        raw = handle.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == SETUP_FAILED
    report = parse_child_report(raw, overflow=False)
    assert not report.started
    assert report.status == bootstrap.STATUS_BOOTSTRAP_ERROR
    assert "the child setup failed" in report.doc["message"]
