"""The runner's own interpreter cannot be steered by anything the user controls.

The attack this guards against: `PYTHONPYCACHEPREFIX` pointing into /tmp plus code
that plants unchecked-hash .pyc files there (and modules in the runner's working
directory), so that the runner imports attacker code after the run and leaks the
log API key or forges the outcome.
"""

from __future__ import annotations

from execution_runner import protocol
from execution_runner.protocol import Reason

from tests.integration.runner.harness import (
    RUNNER_PACKAGE_ROOT,
    Payload,
    Workdir,
    run_payload,
)
from tests.support import pyc_attack

LOGS_KEY = "logs-key-0123456789"


def test_planted_bytecode_and_modules_never_run_in_the_runner(workdir: Workdir) -> None:
    prefix = workdir.tmp / "pyc"
    data = pyc_attack.attack_data(str(prefix), str(RUNNER_PACKAGE_ROOT / "execution_runner"))
    config = {
        "logs": {"endpoint": "http://127.0.0.1:9/logs", "flushIntervalMillis": 10},
        "killGraceSeconds": 1,
    }
    # As if these reached the runner's container: it starts isolated and ignores them.
    env = {
        "PYTHONPYCACHEPREFIX": str(prefix),
        "PYTHONSTARTUP": str(workdir.tmp / "hashlib.py"),
        protocol.LOGS_API_KEY_ENV: LOGS_KEY,
    }
    run = run_payload(workdir, Payload(pyc_attack.CODE, data=data, config=config), env=env)
    assert run.reason == Reason.COMPLETED, run.termination
    # The attack really planted its files where an unisolated runner would load them.
    assert run.result["runnerFiles"] > 10
    assert len(list(prefix.rglob("*.pyc"))) == run.result["planted"]
    assert (workdir.tmp / "hashlib.py").exists()
    termination = run.workdir.joinpath("out/termination-log").read_text()
    for text in (run.stdout, run.stderr, termination):
        assert pyc_attack.MARK not in text
        assert LOGS_KEY not in text
