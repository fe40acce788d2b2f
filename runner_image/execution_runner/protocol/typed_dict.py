"""`TypedDict` at run time without importing `typing` (milliseconds of the runner's start-up).

Type checkers see `typing.TypedDict`; at run time a document class keeps its
`__annotations__` and, called, returns a plain dict, as a real TypedDict does.
"""

from __future__ import annotations


class TypedDict:
    def __init_subclass__(cls, total: bool = True) -> None:
        pass  # `total` is for checkers

    def __new__(cls, *args: object, **kwargs: object) -> dict[str, object]:  # type: ignore[misc]
        return dict(*args, **kwargs)
