"""The few C calls the runner needs (prctl, signalfd, clearenv, memset, the compiler),
made with `_ctypes` alone.

`import ctypes` costs ~2 ms of the runner's start-up (its whole type zoo, struct,
_endian); these calls need one function-pointer class per calling convention and
four C types. Semantics are those of `ctypes.CDLL(None, use_errno=True)` and
`ctypes.pythonapi`: symbols of the process's global scope (libc, the interpreter).
"""

from __future__ import annotations

import _ctypes as _ctypes_module
import os

# `typing` costs milliseconds of start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import CodeType
    from typing import Any

# Typed loosely on purpose: the calls below use the C types the way ctypes itself does.
_ctypes: Any = _ctypes_module
# Py_file_input (Include/compile.h): compile a module, as compile(..., "exec").
_PY_FILE_INPUT = 257


class _Int(_ctypes._SimpleCData):  # type: ignore[misc]
    _type_ = "i"


class _VoidPointer(_ctypes._SimpleCData):  # type: ignore[misc]
    _type_ = "P"


class _Size(_ctypes._SimpleCData):  # type: ignore[misc]
    _type_ = "L"  # size_t is an unsigned long on Linux (LP64 and ILP32)


class _PyObject(_ctypes._SimpleCData):  # type: ignore[misc]
    _type_ = "O"


class _CFunction(_ctypes.CFuncPtr):  # type: ignore[misc]
    """A C function returning int; errno saved for get_errno() (GIL released)."""

    _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO
    _restype_ = _Int


class _PythonApiFunction(_ctypes.CFuncPtr):  # type: ignore[misc]
    """A C-API function returning a new reference; a set Python error is raised."""

    _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_PYTHONAPI
    _restype_ = _PyObject


class _GlobalScope:
    """What `CFuncPtr((name, library))` looks the symbol up in."""

    _handle = _ctypes.dlopen(None, os.RTLD_NOW)


_SCOPE = _GlobalScope()


def function(name: str) -> Any:
    """The C function `name` (returns int; OSError details via `errno()`)."""
    return _CFunction((name, _SCOPE))


def errno() -> int:
    """errno as the last call through `function` left it."""
    return int(_ctypes.get_errno())


def check(result: int, what: str) -> None:
    """Raises OSError (with errno) when a C call returned a negative value."""
    if result < 0:
        error = errno()
        raise OSError(error, f"{what} failed: {os.strerror(error)}")


def prctl(option: int, value: int) -> None:
    check(function("prctl")(option, value, 0, 0, 0), f"prctl({option})")


_memset: Any = None


def memset_zero(address: int, size: int) -> None:
    """Zeroes `size` bytes at `address` of this process."""
    global _memset  # noqa: PLW0603  # built once, on first use (only the child needs it)
    if _memset is None:
        _memset = function("memset")
        _memset.argtypes = (_VoidPointer, _Int, _Size)
        _memset.restype = _VoidPointer
    _memset(address, 0, size)


def compile_module(source: bytes, filename: str) -> CodeType:
    """`compile(source, filename, "exec", dont_inherit=True)` without its first-call cost.

    The builtin `compile()` first checks whether its argument is an AST node, which
    builds the `ast` module's ~120 node classes in a fresh interpreter (about a
    millisecond, more in a forked child); the C compiler entry point does not.
    Source with a NUL byte goes to the builtin, which refuses it as usual.
    """
    compiler = None
    if b"\0" not in source:
        try:
            compiler = _PythonApiFunction(("Py_CompileStringExFlags", _SCOPE))
        except AttributeError:  # an interpreter that does not export its C API
            compiler = None
    if compiler is None:
        return compile(source, filename, "exec", dont_inherit=True)
    # (source, filename, start, flags: NULL = none inherited, optimize: -1 = as the interpreter)
    code: CodeType = compiler(source, os.fsencode(filename), _PY_FILE_INPUT, None, -1)
    return code
