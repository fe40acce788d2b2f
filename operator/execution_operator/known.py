"""The newest body of each unfinished Execution the operator has seen, kept compact.

A pod's event needs its Execution: the newest body seen (from an Execution
event or the response to our own status write) saves a read per pod event.
Bodies are kept as JSON bytes without managedFields and only while the
Execution is unfinished: memory follows the work in flight.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

from . import models
from .echoes import older

Body = dict[str, Any]
Key = tuple[str, str]  # (namespace, name)


def pack(body: Mapping[str, Any]) -> bytes:
    """`body` as compact JSON, without managedFields (a third of a body, never read)."""
    meta = body.get("metadata") or {}
    lean = {**body, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}
    return json.dumps(lean, separators=(",", ":")).encode()


class KnownBodies:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._bodies: dict[Key, tuple[str, bytes]] = {}

    def __len__(self) -> int:
        with self._guard:
            return len(self._bodies)

    def saw(self, body: Body) -> None:
        """`body` was seen; kept unless an even newer one is known. A finished one is dropped."""
        meta = body["metadata"]
        key = (meta["namespace"], meta["name"])
        version = str(meta.get("resourceVersion") or "")
        done = (body.get("status") or {}).get("phase") in models.TERMINAL_PHASES
        if done or meta.get("deletionTimestamp"):
            self.forget(key)
            return
        packed = pack(body)
        with self._guard:
            known = self._bodies.get(key)
            if known is None or not older(version, known[0]):
                self._bodies[key] = (version, packed)

    def get(self, key: Key) -> Body | None:
        with self._guard:
            known = self._bodies.get(key)
        if known is None:
            return None
        body: Body = json.loads(known[1])
        return body

    def forget(self, key: Key) -> None:
        with self._guard:
            self._bodies.pop(key, None)
