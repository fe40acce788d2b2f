"""One step at a time per Execution; a lock exists only while someone needs it."""

from __future__ import annotations

import threading

from execution_operator.locks import KeyedLocks


def test_steps_of_one_key_never_overlap_and_leave_nothing_behind() -> None:
    locks = KeyedLocks()
    inside: list[str] = []
    overlaps: list[int] = []
    first_in = threading.Event()
    release = threading.Event()

    def step(name: str, wait: bool) -> None:
        with locks.hold(("ns", "a")):
            inside.append(name)
            overlaps.append(len(inside))
            if wait:
                first_in.set()
                release.wait(5)
            inside.remove(name)

    first = threading.Thread(target=step, args=("first", True))
    first.start()
    assert first_in.wait(5)
    second = threading.Thread(target=step, args=("second", False))
    second.start()
    with locks.hold(("ns", "other")):  # another key is not held up
        assert len(locks) == 2
    release.set()
    first.join(5)
    second.join(5)
    assert overlaps == [1, 1]
    assert len(locks) == 0
