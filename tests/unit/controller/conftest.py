"""A controller wired to the in-memory cluster and a clock the test moves."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import kopf
import pytest
from execution_operator import handlers
from execution_operator.background import Wakeups
from execution_operator.controller import Controller
from execution_operator.decisions import PodHint
from execution_operator.dispatch import Dispatcher
from execution_operator.settings import load_settings

from .fake import FakeClock, FakeCluster


class Inline(futures.Executor):
    """Runs what is submitted at once, in the caller: one fixed order for the tests."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> futures.Future[Any]:
        done: futures.Future[Any] = futures.Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            done.set_exception(exc)
        return done


# Every payload in a ConfigMap, as a payload too large for the pod's annotations goes.
CONFIGMAP_PAYLOADS = {"EXECUTION_OPERATOR_INLINE_PAYLOAD_MAX_BYTES": "0"}


@dataclass
class Harness:
    # The operator's environment (`load_settings`).
    env: dict[str, str] = field(default_factory=dict)
    clock: FakeClock = field(default_factory=FakeClock)
    # The earliest wake-up asked for per key, in wall-clock seconds.
    wakeups: dict[Hashable, float] = field(default_factory=dict)
    cluster: FakeCluster = field(init=False)
    controller: Controller = field(init=False)

    def __post_init__(self) -> None:
        self.cluster = FakeCluster(self.clock)
        self.controller = Controller(
            load_settings(self.env), self.cluster, self.schedule, clock=self.clock, beside=Inline()
        )

    # Every ask, in order.
    asks: list[tuple[Hashable, float]] = field(default_factory=list)

    def schedule(self, key: Hashable, when: float) -> None:
        self.asks.append((key, when))
        self.wakeups[key] = min(when, self.wakeups.get(key, when))

    def asked_in(self, name: str) -> set[float]:
        """Seconds from now of every wake-up asked for ns/name so far."""
        now = self.clock.now().timestamp()
        return {when - now for key, when in self.asks if key == ("ns", name)}

    def reconcile(self, name: str, hint: PodHint | None = None) -> dict[str, object]:
        """One reconcile of ns/name; the status it left."""
        self.controller.reconcile("ns", name, hint)
        return self.cluster.status(name) if ("ns", name) in self.cluster.executions else {}

    def killed_at(self, call: str, name: str = "hello") -> None:
        """One reconcile of ns/name, the operator killed (SystemExit) at its first `call`."""
        self.cluster.failures[call].append(SystemExit("operator killed"))
        with contextlib.suppress(SystemExit):
            self.reconcile(name)

    def memo(self) -> kopf.Memo:
        """kopf's memo as the operator's startup leaves it, around this controller."""
        wakeups = Wakeups(lambda _: None)
        # Not started: `deliver` works its queue off in the test's thread.
        dispatcher = Dispatcher(self.controller, wakeups.cancel, threads=0)
        runtime = handlers.Runtime(self.controller.settings, self.controller, wakeups, dispatcher)
        return kopf.Memo({handlers.RUNTIME: runtime})

    def wakeup_in(self, name: str) -> float:
        """Seconds from now until the wake-up asked for ns/name."""
        return self.wakeups[("ns", name)] - self.clock.now().timestamp()


def deliver(memo: kopf.Memo, handler: Callable[..., Awaitable[None]], **event: Any) -> None:
    """One watch event through `handler`, then everything it queued reconciled."""
    asyncio.run(handler(memo=memo, **event))
    memo[handlers.RUNTIME].dispatcher.work_off()


@pytest.fixture
def harness() -> Harness:
    return Harness()
