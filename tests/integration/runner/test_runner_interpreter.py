"""The runner's own interpreter cannot be steered by anything the user controls.

The attack this guards against: `PYTHONPYCACHEPREFIX` pointing into /tmp plus code
that plants unchecked-hash .pyc files there (and modules in the runner's working
directory), so that the runner imports attacker code after the run and leaks the
log API key or forges the outcome.
"""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

from execution_runner import protocol
from execution_runner.protocol import Reason

from tests.integration.runner.harness import (
    PYTHON,
    RUNNER_PACKAGE_ROOT,
    Payload,
    Workdir,
    run_payload,
)

LOGS_KEY = "logs-key-0123456789"
MARK = "HIJACKED-BY-THE-CODE"

# Plants one attacker module as .pyc under the cache prefix for every given source
# file, and as .py files in the working directory.
PLANT = textwrap.dedent(
    """
    import importlib.util, marshal, os, sys
    evil = (
        "import os, sys\\n"
        "key = os.environ.get('EXECUTION_LOGS_API_KEY', 'none')\\n"
        f"sys.__stdout__.write('{data['mark']} ' + key + '\\\\n')\\n"
        f"sys.__stderr__.write('{data['mark']} ' + key + '\\\\n')\\n"
        "os._exit(0)\\n"
    )
    # An unchecked-hash .pyc (flags 0b01): loaded without looking at the source.
    code = marshal.dumps(compile(evil, "<evil>", "exec"))
    pyc = importlib.util.MAGIC_NUMBER + (1).to_bytes(4, "little") + bytes(8) + code
    sys.pycache_prefix = data["prefix"]
    for source in data["sources"]:
        target = importlib.util.cache_from_source(source)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(pyc)
    for name in data["modules"]:
        with open(os.path.join(os.getcwd(), name + ".py"), "w") as handle:
            handle.write(evil)
    result = {"planted": len(data["sources"])}
    """
)
# Modules the runner imports lazily, after the code ran.
LAZY_MODULES = ("hashlib", "traceback", "json", "http", "gzip", "zlib", "ssl", "random")


def _stdlib_of(python: str) -> Path:
    where = [python, "-I", "-c", "import textwrap; print(textwrap.__file__)"]
    return Path(subprocess.run(where, check=True, capture_output=True, text=True).stdout).parent


def test_planted_bytecode_and_modules_never_run_in_the_runner(workdir: Workdir) -> None:
    prefix = workdir.tmp / "pyc"
    stdlib = _stdlib_of(PYTHON)
    sources = [*(RUNNER_PACKAGE_ROOT / "execution_runner").rglob("*.py"), *stdlib.glob("json/*.py")]
    sources += [stdlib / f"{name}.py" for name in LAZY_MODULES if (stdlib / f"{name}.py").exists()]
    data = {
        "mark": MARK,
        "prefix": str(prefix),
        "sources": [str(path) for path in sources],
        "modules": LAZY_MODULES,
    }
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
    run = run_payload(workdir, Payload(PLANT, data=data, config=config), env=env)
    assert run.reason == Reason.COMPLETED, run.termination
    assert run.result["planted"] == len(sources) > 10
    # The attack really planted its files where an unisolated runner would load them.
    assert len(list(prefix.rglob("*.pyc"))) == len(sources)
    assert (workdir.tmp / "hashlib.py").exists()
    termination = run.workdir.joinpath("out/termination-log").read_text()
    for text in (run.stdout, run.stderr, termination):
        assert MARK not in text
        assert LOGS_KEY not in text
