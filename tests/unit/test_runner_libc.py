"""The runner's C calls without the ctypes package agree with ctypes and the builtins."""

from __future__ import annotations

import ctypes
import errno
import signal

import pytest
from execution_runner import libc
from execution_runner.signals import WATCHED, sigset

SOURCES = [
    b"print('hello')\nresult = {'greeting': 'hello'}\n",
    b"\xef\xbb\xbfx = '\xc3\xa9'\n",  # UTF-8 with a BOM
    b"# -*- coding: latin-1 -*-\nx = '\xe9'\n",
    # Evaluated annotations: the caller's `from __future__ import annotations` is not inherited.
    b"def f(a: 'x' + 'y') -> int:\n    return 1\nresult = f.__annotations__\n",
    b"from __future__ import annotations\ndef f(a: Undefined) -> int:\n    return 1\n",
]


@pytest.mark.parametrize("source", SOURCES)
def test_compile_module_matches_the_builtin(source: bytes) -> None:
    ours = libc.compile_module(source, "/payload/code.py")
    builtin = compile(source, "/payload/code.py", "exec", dont_inherit=True)
    assert ours.co_filename == "/payload/code.py"
    assert ours == builtin  # code objects compare bytecode, constants (nested code), names
    ours_scope: dict[str, object] = {}
    builtin_scope: dict[str, object] = {}
    exec(ours, ours_scope)
    exec(builtin, builtin_scope)
    assert ours_scope.get("x") == builtin_scope.get("x")
    assert ours_scope.get("result") == builtin_scope.get("result")


@pytest.mark.parametrize(
    "source",
    [b"x = (\n", b"def f(:\n    pass\n", b"x = 1\n  y = 2\n", b"# coding: nope\nx = 1\n"],
)
def test_compile_module_raises_the_builtins_error(source: bytes) -> None:
    with pytest.raises(Exception) as builtin:
        compile(source, "/payload/code.py", "exec", dont_inherit=True)
    with pytest.raises(Exception) as ours:
        libc.compile_module(source, "/payload/code.py")
    assert type(ours.value) is type(builtin.value)
    assert str(ours.value) == str(builtin.value)
    if isinstance(builtin.value, SyntaxError):
        assert isinstance(ours.value, SyntaxError)
        assert (ours.value.filename, ours.value.lineno) == (
            "/payload/code.py",
            builtin.value.lineno,
        )


def test_a_nul_byte_is_refused_not_truncated() -> None:
    # A C string would end at the NUL and run only the first statement.
    source = b"x = 1\n\0\nraise SystemExit('never compiled')\n"
    with pytest.raises((ValueError, SyntaxError)):
        compile(source, "code.py", "exec", dont_inherit=True)
    with pytest.raises((ValueError, SyntaxError)):
        libc.compile_module(source, "code.py")


def test_sigset_matches_libc_sigaddset() -> None:
    mask = ctypes.create_string_buffer(128)
    c = ctypes.CDLL(None)
    c.sigemptyset(mask)
    for sig in WATCHED:
        c.sigaddset(mask, int(sig))
    assert sigset(WATCHED) == mask.raw
    assert sigset((signal.SIGKILL,)) != sigset((signal.SIGTERM,))


def test_memset_zero_clears_exactly_the_given_bytes() -> None:
    buffer = bytearray(b"secret-value-here")
    address = ctypes.addressof(ctypes.c_char.from_buffer(buffer))
    libc.memset_zero(address + 7, 5)
    assert buffer == b"secret-\0\0\0\0\0-here"


def test_failed_calls_raise_oserror_with_errno() -> None:
    with pytest.raises(OSError) as raised:
        libc.prctl(-1, 0)  # no such option
    assert raised.value.errno == errno.EINVAL
    assert "prctl(-1)" in str(raised.value)
