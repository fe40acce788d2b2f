"""Limits that protect the node apply even when the Execution sets none."""

from __future__ import annotations

import textwrap

from execution_runner import protocol
from execution_runner.protocol import Reason

from tests.integration.runner.harness import Payload, Workdir, run_payload


def test_file_size_has_a_default_limit(workdir: Workdir) -> None:
    code = textwrap.dedent(
        """
        import resource
        result = list(resource.getrlimit(resource.RLIMIT_FSIZE))
        """
    )
    run = run_payload(workdir, Payload(code, config={"rlimits": {"fileSize": None}}))
    assert run.reason == Reason.COMPLETED
    assert run.result == [protocol.DEFAULT_FILE_SIZE_BYTES] * 2


def test_writing_past_the_default_file_size_is_the_codes_limit(workdir: Workdir) -> None:
    # A sparse write past the limit: nothing is really written to disk.
    code = textwrap.dedent(
        f"""
        import os
        with open(os.path.join(os.environ["TMPDIR"], "big"), "wb") as handle:
            handle.seek({protocol.DEFAULT_FILE_SIZE_BYTES})
            handle.write(b"x")
        """
    )
    run = run_payload(workdir, Payload(code))
    assert (run.termination["code"], run.reason) == (400, Reason.FILE_SIZE_LIMIT_EXCEEDED)
