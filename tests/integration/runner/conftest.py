"""Fixtures for running the runner as a confined real process."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.integration.runner.harness import NOBODY, Workdir, kill_pids, processes_of


@pytest.fixture
def workdir() -> Iterator[Workdir]:
    work = Workdir()
    yield work
    work.remove()


@pytest.fixture(autouse=True)
def no_survivors(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails a test whose processes outlive the runner; kills them by pid either way.

    Only processes of this test count: started in its work directory (the runner's
    and the code's cwd) or naming it, so runs of other trees as the same uid are left alone.
    """
    uid = NOBODY if os.geteuid() == 0 else os.geteuid()
    before = processes_of(uid) if uid == NOBODY else set()
    # Set up first, so the work directory is torn down after this check.
    work = request.getfixturevalue("workdir") if "workdir" in request.fixturenames else None
    yield
    if uid != NOBODY or work is None:
        return
    root = str(work.root)
    survivors = {pid for pid in processes_of(uid) - before if _belongs(pid, root)}
    described = {pid: _command_line(pid) for pid in sorted(survivors)}
    kill_pids(survivors)
    assert not survivors, f"processes survived the runner: {described}"


def _belongs(pid: int, root: str) -> bool:
    try:
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        cwd = ""
    return cwd.startswith(root) or root in _command_line(pid)


def _command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")[:400]
    except OSError:
        return "?"
