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
def no_survivors() -> Iterator[None]:
    """Fails a test whose processes outlive the runner; kills them by pid either way."""
    uid = NOBODY if os.geteuid() == 0 else os.geteuid()
    before = processes_of(uid) if uid == NOBODY else set()
    yield
    if uid != NOBODY:
        return
    survivors = processes_of(uid) - before
    kill_pids(survivors)
    assert not survivors, f"processes survived the runner: {sorted(survivors)}"
