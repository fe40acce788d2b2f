"""Waiting for a condition instead of sleeping for a guessed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll_until(condition: Callable[[], T], timeout: float, interval: float) -> T:
    """The first truthy value of `condition()`, or its last (falsy) one after `timeout`."""
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= end:
            return value
        time.sleep(interval)


def wait_until(
    condition: Callable[[], T | None], timeout: float, what: str, interval: float = 0.05
) -> T:
    """The first truthy value of `condition()`; after `timeout`, a failure naming `what`.

    The one way tests wait: `poll_until` is its primitive, for the rare test that
    wants the last value (a condition that must stay false).
    """
    last = poll_until(condition, timeout, interval)
    if not last:
        raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
    return last
