"""Runs `python -m execution_runner` as a real process on a temporary payload directory.

Every run is confined the way hostile code must be: a non-root uid (as root,
RLIMIT_NPROC is not enforced) inside an outer process limit.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from execution_runner import protocol

REPO = Path(__file__).resolve().parents[3]
RUNNER_PACKAGE_ROOT = REPO / "runner_image"
# Debian's python3 is what the cluster image runs; it is also readable by any uid.
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
NOBODY = 65534
RUNNER_MODULE = "execution_runner"
OUTER_NPROC = 256


def confinement() -> list[str]:
    outer = ["prlimit", f"--nproc={OUTER_NPROC}:{OUTER_NPROC}", "--"]
    if os.geteuid() == 0:
        outer += ["setpriv", "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups"]
    return outer


@dataclass
class RunnerRun:
    returncode: int
    stdout: str
    stderr: str
    termination: dict[str, Any]
    framed: dict[str, Any]
    seconds: float
    workdir: Path

    @property
    def reason(self) -> str:
        return str(self.termination["reason"])

    @property
    def result(self) -> Any:
        return protocol.parse_framed_result(self.stdout.rstrip("\n").splitlines()[-1])

    @property
    def log_lines(self) -> list[str]:
        """The runner's stdout without its final framed result line."""
        return self.stdout.rstrip("\n").splitlines()[:-1]

    def stderr_json(self) -> list[dict[str, Any]]:
        records = []
        for line in self.stderr.splitlines():
            if line.startswith("{"):
                records.append(json.loads(line))
        return records


@dataclass
class Payload:
    code: str
    data: Any = field(default_factory=dict)
    payload_type: str | None = None
    config: dict[str, Any] | None = field(default_factory=dict)
    input_json: str | None = None  # raw input.json, overrides data/payload_type
    extra_files: dict[str, str] = field(default_factory=dict)


class Workdir:
    """A temporary tree the confined runner can read (payload) and write (tmp, termination log)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="runner-test-"))
        self.payload = self.root / "payload"
        self.tmp = self.root / "tmp"
        self.termination_log = self.root / "out" / "termination-log"
        for directory in (self.payload, self.tmp, self.termination_log.parent):
            directory.mkdir()
        self.root.chmod(0o755)
        self.payload.chmod(0o755)
        for writable in (self.tmp, self.termination_log.parent):
            writable.chmod(0o777)
            if os.geteuid() == 0:
                os.chown(writable, NOBODY, NOBODY)

    def write_payload(self, payload: Payload) -> None:
        files = {protocol.CODE_FILE: payload.code, **payload.extra_files}
        files[protocol.INPUT_FILE] = payload.input_json or json.dumps(
            {"data": payload.data, "payload_type": payload.payload_type}
        )
        if payload.config is not None:
            files[protocol.RUNNER_CONFIG_FILE] = json.dumps(payload.config)
        for name, text in files.items():
            path = self.payload / name
            path.write_text(text)
            path.chmod(0o644)

    def env(self, extra: Mapping[str, str]) -> dict[str, str]:
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.tmp),
            "TMPDIR": str(self.tmp),
            "LANG": "C.UTF-8",
            protocol.PAYLOAD_DIR_ENV: str(self.payload),
            protocol.TERMINATION_LOG_ENV: str(self.termination_log),
            **extra,
        }

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def isolated_start(module: str = RUNNER_MODULE) -> list[str]:
    """The pod's command (protocol.RUNNER_COMMAND), the package found without PYTHONPATH;
    another module (a test's runner variant) is run as with `python3 -I -m`.

    `-I` ignores PYTHONPATH, so the package roots are put on sys.path by a one-line start-up.
    """
    roots = [str(RUNNER_PACKAGE_ROOT)] + ([str(REPO)] if module != RUNNER_MODULE else [])
    if module == RUNNER_MODULE:
        assert protocol.RUNNER_COMMAND[1:] == ("-I", "-c", protocol.RUNNER_START)
        start = f"import sys; sys.path[:0] = {roots!r}; {protocol.RUNNER_START}"
        return [PYTHON, "-I", "-B", "-c", start]
    start = (
        f"import runpy, sys; sys.path[:0] = {roots!r}; "
        f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)"
    )
    return [PYTHON, "-I", "-B", "-c", start]


def plain_interpreter(expression: str) -> Any:
    """`expression` (a literal: lists, strings) as a plain `python3 -I` (no runner) sees it."""
    done = subprocess.run(
        [PYTHON, "-I", "-c", f"import sys; print(repr({expression}))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return ast.literal_eval(done.stdout)


def runner_command(module: str = RUNNER_MODULE) -> list[str]:
    return [*confinement(), *isolated_start(module)]


def start_runner(
    workdir: Workdir, env: Mapping[str, str] | None = None, module: str = RUNNER_MODULE
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        runner_command(module),
        env=workdir.env(env or {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=workdir.tmp,
        start_new_session=True,
    )


def finish(proc: subprocess.Popen[str], workdir: Workdir, started: float) -> RunnerRun:
    stdout, stderr = proc.communicate(timeout=60)
    seconds = time.monotonic() - started
    termination_text = workdir.termination_log.read_bytes()
    assert len(termination_text) <= protocol.TERMINATION_MESSAGE_MAX_BYTES
    last = stdout.rstrip("\n").splitlines()[-1]
    return RunnerRun(
        returncode=proc.returncode,
        stdout=stdout,
        stderr=stderr,
        termination=json.loads(termination_text),
        framed=json.loads(last),
        seconds=seconds,
        workdir=workdir.root,
    )


def user_env(values: Mapping[str, str]) -> dict[str, str]:
    """`spec.env` values the way the pod carries them: under the runner's marker."""
    return {protocol.env_marker_name(name): value for name, value in values.items()}


def run_prepared(workdir: Workdir, env: Mapping[str, str] | None = None) -> RunnerRun:
    """Runs the runner on whatever the payload directory holds."""
    started = time.monotonic()
    return finish(start_runner(workdir, env), workdir, started)


def run_payload(
    workdir: Workdir, payload: Payload, env: Mapping[str, str] | None = None
) -> RunnerRun:
    workdir.write_payload(payload)
    return run_prepared(workdir, env)


def processes_of(uid: int) -> set[int]:
    pids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    pids.add(int(entry))
            except FileNotFoundError:
                continue
    return pids


def alive(pid: int) -> bool:
    """True if the pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            state = handle.read().rpartition(") ")[2].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def kill_pids(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
