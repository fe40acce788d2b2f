"""The wake-up heap: deadlines fire once, the earliest ask wins, a stuck thread shows."""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable, Iterator

import pytest
from execution_operator.background import Background, Wakeups

from tests.support.waiting import wait_until
from tests.unit.controller.fake import FakeClock


@pytest.fixture
def fired() -> list[Hashable]:
    return []


@pytest.fixture
def wakeups(fired: list[Hashable]) -> Iterator[Wakeups]:
    heap = Wakeups(fired.append)
    heap.start()
    yield heap
    heap.stop()


def test_a_due_key_fires_once(wakeups: Wakeups, fired: list[Hashable]) -> None:
    wakeups.at("a", time.time() + 0.05)
    wait_until(lambda: fired == ["a"], 5, "a to fire")
    wakeups.at("b", time.time())
    wait_until(lambda: fired == ["a", "b"], 5, "b to fire after a")


def test_the_earliest_ask_wins(wakeups: Wakeups, fired: list[Hashable]) -> None:
    wakeups.at("k", time.time() + 3600)
    wakeups.at("k", time.time() + 0.05)
    wakeups.at("k", time.time() + 1800)  # later than the pending ask: ignored
    wakeups.at("marker", time.time() + 0.3)
    wait_until(lambda: "marker" in fired, 5, "the marker to fire")
    assert fired == ["k", "marker"]


def test_a_stuck_callback_is_reported_until_it_returns() -> None:
    release = threading.Event()
    entered = threading.Event()

    def block(_: Hashable) -> None:
        entered.set()
        release.wait(10)

    heap = Wakeups(block)
    heap.start()
    try:
        assert heap.stuck_for() is None
        heap.at("slow", time.time())
        assert entered.wait(5)
        wait_until(lambda: (heap.stuck_for() or 0) > 0.05, 5, "the thread to count as stuck")
        release.set()
        wait_until(lambda: heap.stuck_for() is None, 5, "the thread to be healthy again")
    finally:
        release.set()
        heap.stop()


def test_due_times_follow_the_monotonic_clock_not_wall_steps() -> None:
    clock = FakeClock()
    heap = Wakeups(lambda _: None, clock=clock)
    heap.at("deadline", clock.now().timestamp() + 60)
    assert heap.take_due() == (None, 60)
    clock.wall = clock.wall.replace(year=2030)  # the wall clock steps; nothing fires
    assert heap.take_due() == (None, 60)
    clock.advance(60)
    assert heap.take_due() == ("deadline", None)
    assert heap.take_due() == (None, None)
    assert len(heap) == 0


def test_a_superseded_ask_fires_only_once() -> None:
    clock = FakeClock()
    heap = Wakeups(lambda _: None, clock=clock)
    now = clock.now().timestamp()
    heap.at("k", now + 30)
    heap.at("k", now + 10)
    clock.advance(31)
    assert heap.take_due() == ("k", None)
    assert heap.take_due() == (None, None)


def test_background_calls_run_on_several_threads_without_blocking_the_caller() -> None:
    events = Background("test-events", threads=3)
    running = threading.Semaphore(0)
    release = threading.Event()

    def slow_post() -> None:
        running.release()
        release.wait(10)

    for _ in range(4):
        events.submit(slow_post)  # returns at once
    for _ in range(3):  # three run at the same time; the fourth waits its turn
        assert running.acquire(timeout=5)
    assert not running.acquire(timeout=0.2)
    release.set()
    assert running.acquire(timeout=5)
    events.join()
    assert len(events) == 0


def test_a_failing_background_call_does_not_stop_the_others() -> None:
    events = Background("test-failing")
    done: list[int] = []
    events.submit(lambda: 1 / 0)  # type: ignore[func-returns-value]
    events.submit(lambda: done.append(1))
    events.join()
    assert done == [1]


def test_a_cancelled_key_never_fires_and_leaves_nothing_behind() -> None:
    clock = FakeClock()
    heap = Wakeups(lambda _: None, clock=clock)
    now = clock.now().timestamp()
    for n in range(1000):  # finished Executions waiting for a long TTL
        heap.at(("ns", f"e{n}"), now + 86_400)
    heap.at(("ns", "kept"), now + 10)
    for n in range(1000):  # ... deleted before it
        heap.cancel(("ns", f"e{n}"))
    assert len(heap) == 1
    assert heap.queued() <= 1 + 2 + 64  # stale entries pruned, not kept for a day
    clock.advance(86_401)
    assert heap.take_due() == (("ns", "kept"), None)
    assert heap.take_due() == (None, None)
