"""What is loaded before the user code runs: nothing heavy that the run does not need.

The code's process is forked from the runner, so the modules it finds loaded are
what the runner loaded before the fork (plus the bootstrap). Compared with a plain
`python3 -I`, so whatever the interpreter's own site set-up loads does not count.
"""

from __future__ import annotations

from execution_runner.protocol import Reason

from tests.integration.runner.harness import Payload, Workdir, plain_interpreter, run_payload

# Each costs milliseconds of start-up (or is needed only after the code started).
HEAVY = {
    "ctypes",
    "json",
    "re",
    "typing",
    "enum",
    "types",
    "hashlib",
    "subprocess",
    "threading",
    "execution_runner.finish",
    "execution_runner.sink",
    "execution_runner.collector",
    "execution_runner.protocol.outcomes",
    "execution_runner.protocol.termination",
    "execution_runner.protocol.framing",
}


def test_only_the_start_path_is_loaded_when_the_code_starts(workdir: Workdir) -> None:
    plain = plain_interpreter("sorted(sys.modules)")
    before_code = "import sys\nresult = sorted(sys.modules)\n"
    run = run_payload(workdir, Payload(before_code))
    assert run.reason == Reason.COMPLETED, run.termination
    loaded = set(run.result) - set(plain)
    assert "execution_runner.bootstrap" in loaded  # the list is the code's own view
    assert not loaded & HEAVY, sorted(loaded & HEAVY)
