"""The runner's own failure: reported as RunnerError (code 500), never blamed on the code."""

from __future__ import annotations


class RunnerError(Exception):
    """A malformed payload or an internal failure; the message says what is wrong."""
