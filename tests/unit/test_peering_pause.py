"""A replica kopf paused (peering) does nothing from its own wake-up thread."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Hashable, Iterator

import pytest
from execution_operator.background import Wakeups
from execution_operator.pause import KOPF_PEERING_LOGGER, PAUSING, RESUMING, PeeringPause
from kopf._core.engines import peering

from tests.unit.controller.fake import FakeClock


@pytest.fixture
def pause() -> Iterator[PeeringPause]:
    handler = PeeringPause().install()
    yield handler
    handler.uninstall()


def _kopf_says(message: str) -> None:
    logging.getLogger(KOPF_PEERING_LOGGER).info(message)


def test_kopfs_announcements_are_the_ones_listened_for() -> None:
    source = inspect.getsource(peering)
    for opening in PAUSING + RESUMING:
        assert opening in source


def test_pause_and_resume_follow_kopf_per_peering_object(pause: PeeringPause) -> None:
    assert not pause()
    _kopf_says("Pausing operations in favour of [Peer(...)].")
    _kopf_says("Pausing all operators, including self: [Peer(...)]")  # a second namespace
    assert pause()
    _kopf_says("Resuming operations after the pause. Conflicting operators ... are gone.")
    assert pause()
    _kopf_says("Resuming operations after the pause. Conflicting operators ... are gone.")
    assert not pause()


def test_a_paused_replica_fires_no_wake_ups(pause: PeeringPause) -> None:
    clock = FakeClock()
    fired: list[Hashable] = []
    heap = Wakeups(fired.append, clock=clock, paused=pause)
    _kopf_says("Pausing operations in favour of [Peer(...)].")
    heap.at("ttl", clock.now().timestamp())
    key, _ = heap.take_due()
    assert key == "ttl"
    heap.fire(key)
    assert fired == []
    _kopf_says("Resuming operations after the pause.")
    heap.fire(key)
    assert fired == ["ttl"]
