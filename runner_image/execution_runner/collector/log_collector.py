"""The in-pod log collector: the user code's output lines, shipped to the log backend.

The runner's pipe readers call `add` for every line; a background thread turns
queued lines into records, packs them into gzip batches and POSTs them, retrying
with backoff. `close` flushes what is left within a deadline. The protocol and
the counters are described in docs/log-backend.md.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final

from execution_runner import protocol
from execution_runner.collector.line_queue import LineQueue, QueuedLine
from execution_runner.config import LogSettings
from execution_runner.protocol import LogCounters
from execution_runner.redact import Redactor
from execution_runner.streams import STDERR, STDOUT

if TYPE_CHECKING:
    from execution_runner.collector.backend_client import PostResult

REQUEST_TIMEOUT_SECONDS: Final = 10.0
# A request in flight this long while the queue is full: the backend counts as failing
# (lines are dropped rather than the code held back any longer).
BACKEND_STALL_SECONDS: Final = 5.0
# Kept free before close()'s deadline so the last request returns in time.
CLOSE_MARGIN_SECONDS: Final = 0.05
# Lines taken from the queue per lock acquisition.
_TAKE_LINES: Final = 512

Post = Callable[[bytes, str, float], "PostResult"]


class LogCollector:
    """Ships output lines as log records; satisfies the runner's LogSink protocol."""

    def __init__(
        self,
        settings: LogSettings,
        identity: Mapping[str, str],
        redact: Redactor,
        api_key: str | None,
        workspace: str | None,
    ) -> None:
        self.settings = settings
        self._identity = dict(identity)
        self._redact = redact
        self._api_key = api_key
        self._workspace = workspace
        self._queue = LineQueue(
            settings.max_queue_bytes,
            settings.wake_bytes,
            block=settings.overflow == protocol.LogsOverflow.BLOCK,
        )
        self._thread: threading.Thread | None = None
        self._deadline = math.inf  # monotonic; set by close()
        # Counters below change under self._queue.cond.
        self._records = 0
        self._bytes = 0
        self._batches = 0
        self._failed_batches = 0
        self._lost = 0  # lines of batches given up on
        self._retries = 0
        self._sending = False
        self._sending_since: float | None = None  # monotonic start of the request in flight
        self._final: LogCounters | None = None
        self.last_error: str | None = None
        self._batch_ids = f"{identity.get('pod') or os.urandom(8).hex()}-"
        self._batch_seq = 0

    # --- the runner's interface ------------------------------------------------

    def start(self) -> None:
        """Starts the shipping thread; a no-op when nothing is shipped."""
        if not self.settings.shipping or self._thread is not None or self._final is not None:
            return
        self._thread = threading.Thread(target=self._run, name="log-shipper", daemon=True)
        self._thread.start()

    def add(self, stream: str, line: str) -> None:
        """Queues one line (no trailing newline); never blocks, never raises."""
        if not self.settings.shipping:
            return
        try:
            self._queue.put(STDERR if stream == STDERR else STDOUT, line)
        except Exception:  # the runner's pipe reader must keep draining whatever happens
            self._queue.dropped += 1

    def ready(self) -> bool:
        """False while the runner should stop reading the code's output (backpressure)."""
        if not self.settings.shipping or self._queue.ready():
            return True
        since = self._sending_since
        if since is not None and time.monotonic() - since > BACKEND_STALL_SECONDS:
            self._queue.backend_ok = False
            return True
        return False

    def close(self, deadline_seconds: float) -> LogCounters:
        """Flushes within `deadline_seconds`, stops shipping and returns the final counters."""
        if self._final is not None:
            return LogCounters(**self._final)
        if self.settings.shipping:
            self._deadline = time.monotonic() + max(0.0, deadline_seconds)
            self.start()  # lines added without start() are flushed too
            self._queue.begin_close()
            if self._thread is not None:
                self._thread.join(max(0.0, self._deadline - time.monotonic()))
        with self._queue.cond:
            self._queue.sealed = True
            unresolved = self._queue.queued_lines() + self._queue.taken_lines
            self._final = LogCounters(
                records=self._records,
                bytes=self._bytes,
                batches=self._batches,
                # A batch still in flight at the deadline has failed.
                failedBatches=self._failed_batches + (1 if self._sending else 0),
                dropped=self._queue.dropped + self._lost + unresolved,
            )
        return LogCounters(**self._final)

    # --- diagnostics -----------------------------------------------------------

    @property
    def retries(self) -> int:
        """Requests that were repeats of an earlier failed attempt."""
        return self._retries

    @property
    def peak_queue_bytes(self) -> int:
        """The highest the queue's byte count reached (never above maxQueueBytes)."""
        return self._queue.peak_bytes

    def counters(self) -> LogCounters:
        """Counters so far (final after close)."""
        if self._final is not None:
            return LogCounters(**self._final)
        with self._queue.cond:
            return LogCounters(
                records=self._records,
                bytes=self._bytes,
                batches=self._batches,
                failedBatches=self._failed_batches,
                dropped=self._queue.dropped + self._lost,
            )

    # --- the shipping thread ---------------------------------------------------

    def _run(self) -> None:
        # Imported here: a run without a log backend never pays for http.client.
        from execution_runner.collector.backend_client import (  # noqa: PLC0415
            BackendClient,
            PostResult,
            request_headers,
        )

        try:
            client = BackendClient(
                self.settings.endpoint or "", request_headers(self._api_key, self._workspace)
            )
        except ValueError as exc:
            error = str(exc)
            self.last_error = error

            def post(_body: bytes, _batch_id: str, _timeout: float) -> PostResult:
                return PostResult(delivered=False, retryable=False, detail=error)

            self._ship(post)
            return
        try:
            self._ship(client.post)
        finally:
            client.close()

    def _ship(self, post: Post) -> None:
        from execution_runner.collector.batching import BatchBuilder  # noqa: PLC0415
        from execution_runner.collector.records import RecordEncoder, common_attributes  # noqa: PLC0415

        encoder = RecordEncoder(
            common_attributes(self._identity, self.settings.attributes), self._redact
        )
        top_level = {key: self._redact(value) for key, value in self.settings.attributes.items()}
        batch = BatchBuilder(top_level, self.settings.max_batch_bytes)
        queue = self._queue
        taken: deque[QueuedLine] = deque()  # taken from the queue, not yet in a batch
        overflow: bytes | None = None  # taken[0] encoded, which did not fit the last batch
        try:
            while taken or queue.wait_ready(self.settings.flush_interval):
                if self._past_deadline():
                    return
                lines = charged = 0
                while taken or (taken := deque(queue.take(_TAKE_LINES))):
                    item = taken[0]
                    record = overflow or encoder.encode(item.stream, item.line, item.arrival)
                    overflow = None
                    if not batch.add(record):
                        overflow = record
                        break
                    taken.popleft()
                    lines += 1
                    charged += item.charged
                if lines:
                    size, body = batch.size, batch.finish()
                    queue.release(charged)  # the lines now live on only in `body`
                    self._resolve(lines, size, self._deliver(post, body))
        except Exception as exc:  # close() accounts for whatever is left
            self.last_error = f"log shipping stopped: {exc!r}"

    def _resolve(self, lines: int, size: int, delivered: bool) -> None:
        with self._queue.cond:
            self._sending = False
            if self._queue.sealed:
                return  # close() has reported already
            if delivered:
                self._records += lines
                self._bytes += size
                self._batches += 1
            else:
                self._failed_batches += 1
                self._lost += lines
            self._queue.resolve(lines)

    def _past_deadline(self) -> bool:
        return time.monotonic() >= self._deadline - CLOSE_MARGIN_SECONDS

    def _request_timeout(self) -> float:
        """Per-request timeout; while closing, what is left before the deadline."""
        left = self._deadline - CLOSE_MARGIN_SECONDS - time.monotonic()
        return min(REQUEST_TIMEOUT_SECONDS, left)

    def _deliver(self, post: Post, body: bytes) -> bool:
        """POSTs one batch until delivered, rejected or out of time."""
        from execution_runner.collector.backend_client import backoff_delay  # noqa: PLC0415

        self._batch_seq += 1
        batch_id = f"{self._batch_ids}{self._batch_seq}"
        with self._queue.cond:
            self._sending = True
        attempt = 0
        while (timeout := self._request_timeout()) > 0:
            self._sending_since = time.monotonic()
            result = post(body, batch_id, timeout)
            self._sending_since = None
            self._queue.backend_ok = result.delivered  # failing: drop rather than stall the code
            if result.delivered:
                return True
            self.last_error = result.detail
            if not result.retryable:
                return False
            delay = min(backoff_delay(attempt, result.retry_after), self._request_timeout())
            if delay <= 0:
                return False
            self._queue.pause(delay)
            attempt += 1
            with self._queue.cond:
                self._retries += 1
        return False
