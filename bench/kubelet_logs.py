"""The log endpoint of the simulated kubelet: what `kubectl logs` of a finished hello pod says.

The API server proxies a pod-log request to the kubelet of the pod's node at
the node's InternalIP and kubelet port. This HTTPS server (self-signed: the
local API server does not verify kubelets) listens on the host end of the
cluster's veth, an address the API server reaches, and answers every
/containerLogs request with the runner's output for hello.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from execution_runner import protocol

OPENSSL_REQ: tuple[str, ...] = ("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes")
OPENSSL_REQ += ("-days", "1", "-subj", "/CN=bench-fake-kubelet")
HOST_IP = os.environ.get("LOCAL_CLUSTER_HOST_IP", "10.213.0.1")  # local-cluster/lib.sh HOST_IP


def hello_log(result: Any) -> bytes:
    return f"hello\n{protocol.frame_result(result)}\n".encode()


class KubeletLogs:
    def __init__(self, result: Any, host: str = HOST_IP) -> None:
        self.host = host
        self.body = hello_log(result)
        self.requests = 0
        self._dir = tempfile.TemporaryDirectory()
        self._server: ThreadingHTTPServer | None = None

    def _context(self) -> ssl.SSLContext:
        cert, key = Path(self._dir.name, "cert.pem"), Path(self._dir.name, "key.pem")
        subprocess.run(
            [*OPENSSL_REQ, "-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        return context

    def __enter__(self) -> KubeletLogs:
        logs = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                logs.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(logs.body)))
                self.end_headers()
                self.wfile.write(logs.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer((self.host, 0), Handler)
        server.daemon_threads = True
        server.socket = self._context().wrap_socket(server.socket, server_side=True)
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True).start()
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self._dir.cleanup()
