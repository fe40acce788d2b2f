"""The dispatcher's threads: one key to one thread at a time, failures logged, never fatal."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import kopf
import pytest
from execution_operator import handlers
from execution_operator.background import Wakeups
from execution_operator.decisions import PodHint
from execution_operator.dispatch import Dispatcher

from tests.support.waiting import wait_until

from .conftest import Harness
from .fake import api_error

THREADS = 4


@pytest.fixture
def dispatcher(harness: Harness) -> Iterator[Dispatcher]:
    started = Dispatcher(harness.controller, lambda _: None, threads=THREADS)
    started.start()
    yield started
    started.stop()


def test_a_failed_reconcile_is_logged_retried_and_the_thread_goes_on(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    one = Dispatcher(harness.controller, lambda _: None, threads=1)
    one.start()
    harness.cluster.failures["patch_execution_status"].append(api_error(500, "busy"))
    one.execution("ns", "bad", harness.cluster.apply("bad"))
    one.execution("ns", "good", harness.cluster.apply("good"))
    wait_until(lambda: harness.cluster.status("good"), 10, "the next key reconciled")
    one.stop()
    assert "ns/bad: reconciling failed" in caplog.text
    assert harness.wakeup_in("bad") > 0  # the controller's back-off brings it back
    assert one.dead() == 0
    harness.controller.reconcile("ns", "bad")  # the retry
    assert harness.cluster.status("bad")


def test_one_key_is_never_reconciled_by_two_threads_at_once(
    harness: Harness, dispatcher: Dispatcher
) -> None:
    bodies = {name: harness.cluster.apply(name) for name in ("a", "b", "c")}
    guard = threading.Lock()
    inside: Counter[str] = Counter()
    most: Counter[str] = Counter()
    done: Counter[str] = Counter()
    release = threading.Event()
    reconcile = harness.controller.reconcile

    def watched(namespace: str, name: str, hint: PodHint | None = None, **kw: Any) -> None:
        with guard:
            inside[name] += 1
            most[name] = max(most[name], inside[name])
        if name == "a":
            assert release.wait(10)
        reconcile(namespace, name, hint, **kw)
        with guard:
            inside[name] -= 1
            done[name] += 1

    harness.controller.reconcile = watched  # type: ignore[method-assign]
    dispatcher.execution("ns", "a", bodies["a"])
    wait_until(lambda: inside["a"], 10, "a thread inside a's reconcile")
    for name in ("a", "b", "a", "c", "a"):  # more of a while it runs, on idle threads
        dispatcher.execution("ns", name, bodies[name])
    wait_until(lambda: done["b"] and done["c"], 10, "the other keys reconciled meanwhile")
    assert most["a"] == 1
    release.set()
    wait_until(lambda: dispatcher.held() == 0, 10, "the queue drained")
    assert done["a"] == 2  # the events that came meanwhile: one more reconcile
    assert most == Counter(a=1, b=1, c=1)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_thread_fails_the_probe_and_the_queue_is_reported(harness: Harness) -> None:
    wakeups = Wakeups(lambda _: None)
    dispatcher = Dispatcher(harness.controller, wakeups.cancel, threads=1, clock=harness.clock)
    runtime = handlers.Runtime(harness.controller.settings, harness.controller, wakeups, dispatcher)
    memo = kopf.Memo({handlers.RUNTIME: runtime})
    dispatcher.execution("ns", "a", harness.cluster.apply("a"))
    dispatcher.execution("ns", "b", harness.cluster.apply("b"))
    harness.clock.advance(3)
    assert handlers.dispatch_alive(memo=memo) == "2 queued, oldest 3s"

    def killed(*_: Any, **__: Any) -> None:
        raise SystemExit("interpreter exit")

    harness.controller.reconcile = killed  # type: ignore[method-assign]
    dispatcher.start()
    wait_until(dispatcher.dead, 10, "the thread ended")
    with pytest.raises(kopf.PermanentError, match="1 dispatcher threads have ended"):
        handlers.dispatch_alive(memo=memo)
    dispatcher.stop()  # a stopping operator's threads are not dead ones
    assert handlers.dispatch_alive(memo=memo) == "1 queued, oldest 3s"


def test_stopped_threads_end(harness: Harness, dispatcher: Dispatcher) -> None:
    dispatcher.execution("ns", "a", harness.cluster.apply("a"))
    wait_until(lambda: dispatcher.held() == 0, 10, "the queue drained")
    dispatcher.stop()
    threads = [t for t in threading.enumerate() if t.name.startswith("dispatch-")]
    for thread in threads:
        thread.join(10)
    assert not any(t.is_alive() for t in threads)
