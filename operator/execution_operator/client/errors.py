"""Errors the client raises (execute() itself returns error dicts instead)."""

from __future__ import annotations


class ClientError(Exception):
    """Base of the client's errors."""


class ExecutionNotFound(ClientError):
    """The Execution does not exist (any more)."""


class WaitTimeout(ClientError):
    """The Execution did not reach the awaited state in time."""
