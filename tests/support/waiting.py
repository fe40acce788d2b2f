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


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, poll: float = 0.01) -> bool:
    """True as soon as `condition()` holds; False if it still does not after `timeout`."""
    return bool(poll_until(condition, timeout, poll))
