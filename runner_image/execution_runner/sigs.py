"""Signal numbers and names from `_signal`: the `signal` module imports `enum` (milliseconds)."""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]

SIGCHLD: int = _signal.SIGCHLD
SIGINT: int = _signal.SIGINT
SIGKILL: int = _signal.SIGKILL
SIGSEGV: int = _signal.SIGSEGV
SIGTERM: int = _signal.SIGTERM
SIGXCPU: int = _signal.SIGXCPU
SIGXFSZ: int = _signal.SIGXFSZ
# Alternative names of the same numbers; `signal.Signals` names them by the others.
_ALIASES = frozenset({"SIGIOT", "SIGCLD", "SIGPOLL"})


def name(signo: int) -> str:
    """ "SIGKILL" for 9, like `signal.Signals(signo).name`; the number for unknown ones."""
    for key, value in vars(_signal).items():
        if key.startswith("SIG") and "_" not in key and key not in _ALIASES and value == signo:
            return str(key)
    return str(signo)


def block(signals: tuple[int, ...]) -> None:
    _signal.pthread_sigmask(_signal.SIG_BLOCK, signals)


def unblock_all() -> None:
    _signal.pthread_sigmask(_signal.SIG_SETMASK, ())
