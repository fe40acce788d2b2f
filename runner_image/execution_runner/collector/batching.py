"""Request bodies: encoded records packed into one gzip-compressed JSON document.

The body is `{<logs.attributes as top-level keys>, "logs": [record, ...]}`.
It is compressed as records are added (in 64 KiB chunks), so an uncompressed
copy of a batch is never held in memory; `size` is the uncompressed size the batch bound applies to.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from typing import Final

LOGS_KEY: Final = "logs"
# Logs are repetitive: the fastest level already compresses them several-fold.
GZIP_LEVEL: Final = 1
_GZIP_WBITS: Final = 31  # zlib's gzip container
_SUFFIX: Final = b"]}"
# Records reach the compressor in chunks: one call per record costs more than the copy.
_COMPRESS_CHUNK_BYTES: Final = 64 * 1024


def body_prefix(top_level: Mapping[str, str]) -> bytes:
    """`{"k":"v",...,"logs":[` for the given top-level fields."""
    fields = {key: value for key, value in top_level.items() if key != LOGS_KEY}
    head = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))[:-1]
    separator = "," if fields else ""
    return f'{head}{separator}"{LOGS_KEY}":['.encode()


class BatchBuilder:
    """Accepts encoded records until the next one would exceed `max_bytes`."""

    def __init__(self, top_level: Mapping[str, str], max_bytes: int) -> None:
        self._prefix = body_prefix(top_level)
        self._max_bytes = max_bytes
        self._start()

    def _start(self) -> None:
        self._gzip = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, _GZIP_WBITS)
        self._chunks: list[bytes] = []
        self._pending: list[bytes] = [self._prefix]  # not yet given to the compressor
        self._pending_bytes = 0
        self.size = len(self._prefix) + len(_SUFFIX)
        self.count = 0

    def add(self, record: bytes) -> bool:
        """False, and nothing added, when `record` does not fit; a first record always fits."""
        if self.count:
            if self.size + 1 + len(record) > self._max_bytes:
                return False
            self._pending.append(b",")
        self._pending.append(record)
        self._pending_bytes += len(record)
        self.size += len(record) + (1 if self.count else 0)
        self.count += 1
        if self._pending_bytes >= _COMPRESS_CHUNK_BYTES:
            self._compress_pending()
        return True

    def _compress_pending(self) -> None:
        chunk = self._gzip.compress(b"".join(self._pending))
        if chunk:
            self._chunks.append(chunk)
        self._pending.clear()
        self._pending_bytes = 0

    def finish(self) -> bytes:
        """The compressed body; the builder is then empty again."""
        self._pending.append(_SUFFIX)
        self._compress_pending()
        self._chunks.append(self._gzip.flush())
        body = b"".join(self._chunks)
        self._start()
        return body
