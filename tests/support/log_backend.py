"""A real HTTP log backend for tests: records every request the collector sends.

Importable (`LogBackend`, `closed_port`) and runnable, e.g. inside a network
namespace, writing one JSON line per request to FILE:

    python -m tests.support.log_backend --host H --port P --out FILE
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

PATH = "/logs"


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]  # names lower-cased
    raw: bytes  # the body as sent (compressed)
    status: int  # what the backend answered

    @cached_property
    def body(self) -> Any:
        """The decoded JSON document, or None if it was not valid (decoded on first use)."""
        return decode_body(self.raw, self.headers.get("content-encoding", ""))

    @property
    def records(self) -> list[dict[str, Any]]:
        logs = self.body.get("logs") if isinstance(self.body, dict) else None
        return logs if isinstance(logs, list) else []

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "headers": self.headers,
            "body": self.body,
            "status": self.status,
        }


def decode_body(raw: bytes, encoding: str) -> Any:
    try:
        return json.loads(gzip.decompress(raw) if encoding == "gzip" else raw)
    except (OSError, EOFError, ValueError):
        return None


def closed_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


class LogBackend:
    """An HTTP/1.1 server on `host` (loopback by default) that stores the batches."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, out: Path | None = None) -> None:
        self.host = host
        self.port = port
        self._out = out
        self._lock = threading.Condition()
        self._requests: list[ReceivedRequest] = []
        self._arrived = 0  # requests read, answered or not
        self._fail_status = 0
        self._fail_left: int | None = 0  # None: fail until `recover`
        self._released = threading.Event()
        self._released.set()
        self._sockets: set[socket.socket] = set()
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle ---------------------------------------------------------------

    def start(self) -> LogBackend:
        self._server = ThreadingHTTPServer((self.host, self.port), self._handler_class())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Stops listening and cuts kept-alive connections: the backend is gone."""
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):  # the client may have gone already
                    sock.shutdown(socket.SHUT_RDWR)
            self._sockets.clear()

    def __enter__(self) -> LogBackend:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{PATH}"

    # --- behaviour -----------------------------------------------------------------

    def fail(self, status: int, count: int | None = None) -> None:
        """Answer `status` to the next `count` requests (None: until `recover`)."""
        with self._lock:
            self._fail_status, self._fail_left = status, count

    def recover(self) -> None:
        with self._lock:
            self._fail_left = 0

    def hang(self) -> None:
        """Hold every response until `release` (a backend that accepts and never answers)."""
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    # --- what arrived --------------------------------------------------------------

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def arrived(self) -> int:
        """Requests received so far, including those held by `hang`."""
        with self._lock:
            return self._arrived

    def records(self) -> list[dict[str, Any]]:
        """Records of accepted requests, in arrival order."""
        return [r for req in self.requests if 200 <= req.status < 300 for r in req.records]

    def wait_for(self, condition: Callable[[LogBackend], bool], timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        with self._lock:
            while not condition(self):
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
        return True

    # --- the server side -----------------------------------------------------------

    def _answer(self) -> int:
        with self._lock:
            if self._fail_left is None or self._fail_left > 0:
                if self._fail_left is not None:
                    self._fail_left -= 1
                return self._fail_status
            return 200

    def _arrive(self) -> None:
        with self._lock:
            self._arrived += 1
            self._lock.notify_all()

    def _store(self, request: ReceivedRequest) -> None:
        with self._lock:
            self._requests.append(request)
            if self._out is not None:
                with self._out.open("a") as out:
                    out.write(json.dumps(request.as_json()) + "\n")
            self._lock.notify_all()

    def _track(self, sock: socket.socket, add: bool) -> None:
        with self._lock:
            (self._sockets.add if add else self._sockets.discard)(sock)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real backends do

            def setup(self) -> None:
                super().setup()
                backend._track(self.connection, add=True)

            def finish(self) -> None:
                backend._track(self.connection, add=False)
                super().finish()

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                backend._arrive()
                backend._released.wait()
                status = backend._answer()
                headers = {name.lower(): value for name, value in self.headers.items()}
                backend._store(ReceivedRequest(self.path, headers, raw, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the test output stays readable

        return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="one JSON line per request")
    args = parser.parse_args(argv)
    stopped = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with LogBackend(args.host, args.port, args.out) as backend:
        print(f"listening on {backend.url}", flush=True)
        stopped.wait()


if __name__ == "__main__":
    main()
