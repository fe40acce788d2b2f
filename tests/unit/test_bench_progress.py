"""The control-plane bench waits through a burst's first steps before its first end."""

from __future__ import annotations

import itertools

from bench.control_plane import wait_progress


def test_steps_before_the_first_end_count_as_progress() -> None:
    steps = itertools.count()
    done = {"ends": 0}

    def work() -> int:
        step = next(steps)
        if step >= 5:  # the ends come only after five observed steps
            done["ends"] = 3
        return step

    assert wait_progress(lambda: done["ends"], 3, stall=0.05, work=work)


def test_it_gives_up_when_nothing_moves() -> None:
    assert not wait_progress(lambda: 0, 3, stall=0.05, work=lambda: 7)
