"""What the user process can see: exactly the declared environment, no runner secrets."""

from __future__ import annotations

import os
import signal
import textwrap
import time

import pytest
from execution_runner import protocol
from execution_runner.protocol import ExitStatus, Reason
from execution_runner.redact import REDACTED

from tests.integration.runner.harness import (
    Payload,
    Workdir,
    alive,
    finish,
    run_payload,
    start_runner,
    user_env,
)
from tests.support.waiting import wait_until

DUMP_ENV = textwrap.dedent(
    """
    import os
    try:
        with open(f"/proc/{os.getppid()}/environ", "rb") as handle:
            runner_environ = handle.read().decode(errors="replace")
    except OSError as exc:
        runner_environ = type(exc).__name__
    result = {"env": dict(os.environ), "runner_environ": runner_environ}
    """
)
SECRET = "s3cr3t-token-value"


def test_child_sees_exactly_the_declared_environment(workdir: Workdir) -> None:
    config = {
        "threads": 3,
        "env": [
            "GREETING",
            "API_TOKEN",
            "KUBERNETES_SERVICE_HOST",
            "EXECUTION_LOGS_API_KEY",
            "ABSENT",
            "POD_LEVEL",
        ],
        "secretEnv": ["API_TOKEN"],
        "envFrom": [{"prefix": "EXECUTION_ENVFROM_0_", "secret": False}],
    }
    runner_env = {
        **user_env({"GREETING": "hello", "API_TOKEN": SECRET}),
        "UNDECLARED": "nope",
        "POD_LEVEL": "a plain name is the pod's, not the user's",
        "KUBERNETES_SERVICE_HOST": "10.0.0.1",
        "EXECUTION_LOGS_API_KEY": "logs-key-value",
        "EXECUTION_ENVFROM_0_DB_HOST": "db.local",
        "EXECUTION_ENVFROM_0_PYTHONSTARTUP": "/tmp/evil.py",
        "EXECUTION_ENVFROM_0_LD_PRELOAD": "/tmp/evil.so",
    }
    run = run_payload(workdir, Payload(DUMP_ENV, config=config), env=runner_env)
    assert run.reason == Reason.COMPLETED
    for dropped in ("LD_PRELOAD", "PYTHONSTARTUP"):
        assert f"execution_runner: {dropped!r} is reserved" in run.stderr
    env = run.result["env"]
    baseline = {"PATH", "HOME", "LANG", "TMPDIR"}
    assert set(env) == baseline | set(protocol.THREAD_CAP_ENV) | {
        "GREETING",
        "API_TOKEN",
        "DB_HOST",
    }
    assert env["GREETING"] == "hello"
    assert env["DB_HOST"] == "db.local"
    assert env["TMPDIR"] == str(workdir.tmp)
    assert all(env[name] == "3" for name in protocol.THREAD_CAP_ENV)
    # The runner is not dumpable: its environment (with the log credentials) is unreadable.
    assert run.result["runner_environ"] == "PermissionError"


def test_secret_values_never_leave_the_pod(workdir: Workdir) -> None:
    code = textwrap.dedent(
        """
        import os, sys
        token = os.environ["API_TOKEN"]
        print("stdout has", token)
        print("stderr has", token, file=sys.stderr)
        raise RuntimeError("failed with " + token)
        """
    )
    run = run_payload(
        workdir,
        Payload(code, config={"env": ["API_TOKEN"], "secretEnv": ["API_TOKEN"]}),
        env=user_env({"API_TOKEN": SECRET}),
    )
    assert run.reason == Reason.USER_ERROR
    termination = run.workdir.joinpath("out/termination-log").read_text()
    for text in (run.stdout, run.stderr, termination):
        assert SECRET not in text
    assert f"stdout has {REDACTED}" in run.stdout
    assert f"stderr has {REDACTED}" in run.stderr
    assert REDACTED in run.termination["message"]
    assert REDACTED in run.termination["error"]["traceback"]
    assert run.framed["error"]["message"] == f"failed with {REDACTED}"


def test_sigterm_to_runner_cancels_and_kills_the_group(workdir: Workdir) -> None:
    code = textwrap.dedent(
        """
        import subprocess, time
        grandchild = subprocess.Popen(["sleep", "60"])
        print("pids", grandchild.pid, flush=True)
        print("waiting", flush=True)  # the latest line is held back (it may be the result)
        time.sleep(60)
        """
    )
    workdir.write_payload(Payload(code, config={"timeoutSeconds": 30, "killGraceSeconds": 1}))
    started = time.monotonic()
    proc = start_runner(workdir)
    assert proc.stdout is not None
    first = proc.stdout.readline()  # waits until the code is running
    grandchild = int(first.split()[1])
    assert alive(grandchild)
    proc.send_signal(signal.SIGTERM)
    run = finish(proc, workdir, started)
    assert run.returncode == ExitStatus.SYSTEM_FAILURE
    assert (run.termination["code"], run.reason) == (500, Reason.CANCELLED)
    assert run.result is None
    wait_until(lambda: not alive(grandchild), 2, "the grandchild to be gone", interval=0.01)
    assert run.seconds < 10


def _memory_of(pid: int) -> bytes:
    """Every readable mapping of a process (as root, which may read any process)."""
    chunks = []
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            span, perms = line.split()[:2]
            if not perms.startswith("r") or line.rstrip().endswith("[vvar]"):
                continue
            start, end = (int(x, 16) for x in span.split("-"))
            try:
                mem.seek(start)
                chunks.append(mem.read(end - start))
            except OSError:
                continue  # e.g. [vsyscall]
    return b"".join(chunks)


@pytest.mark.skipif(os.geteuid() != 0, reason="reading another process's memory needs root")
def test_forked_child_holds_no_runner_secret_in_memory(workdir: Workdir) -> None:
    """The code runs in a fork of the runner: the log credentials and undeclared values
    must be gone from its memory, not only from os.environ (it can read its own memory)."""
    code = textwrap.dedent(
        """
        import os, sys, time
        with open("/proc/self/environ", "rb") as handle:
            print("environ:" + handle.read().replace(b"\\0", b"").hex(), flush=True)
        print("ready", os.getpid(), flush=True)
        print("waiting", flush=True)  # the latest line is held back (it may be the result)
        sys.stdin.read()  # EOF at once: stdin is not the runner's
        time.sleep(30)
        """
    )
    workdir.write_payload(Payload(code, config={"timeoutSeconds": 30, "killGraceSeconds": 1}))
    secrets = {
        protocol.LOGS_API_KEY_ENV: "logs-key-4f1c9e2a7b",
        protocol.LOGS_WORKSPACE_ENV: "workspace-93b1d7e0",
        "UNDECLARED": "undeclared-value-5d2c8a",
    }
    started = time.monotonic()
    proc = start_runner(workdir, env=secrets)
    assert proc.stdout is not None
    environ = bytes.fromhex(proc.stdout.readline().partition(":")[2].strip())
    pid = int(proc.stdout.readline().split()[1])
    memory = _memory_of(pid)
    proc.send_signal(signal.SIGTERM)
    run = finish(proc, workdir, started)
    assert run.reason == Reason.CANCELLED
    assert len(memory) > 1_000_000  # really read the interpreter's memory
    for value in secrets.values():
        assert value.encode() not in environ
        assert value.encode() not in memory, f"{value} is in the child's memory"
