"""A healthy backend: every line arrives once, in order, parsed, stamped and redacted."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import threading
from typing import IO

from execution_runner import protocol
from execution_runner.collector.backend_client import LOGS_BATCH_ID_HEADER, LOGS_WORKSPACE_HEADER
from execution_runner.collector.log_collector import LogCollector
from execution_runner.redact import REDACTED

from tests.support.log_backend import LogBackend

from .conftest import API_KEY, ATTRIBUTES, IDENTITY, WORKSPACE, CollectorFactory

LINES = 100_000


def pump(pipe: IO[bytes], stream: str, collector: LogCollector) -> None:
    """What the runner's reader does: one `add` per line, as fast as the pipe delivers."""
    for raw in pipe:
        collector.add(stream, raw.rstrip(b"\n").decode())


def run_child(code: str, collector: LogCollector) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert child.stdout is not None
    assert child.stderr is not None
    readers = [
        threading.Thread(target=pump, args=(child.stdout, "stdout", collector)),
        threading.Thread(target=pump, args=(child.stderr, "stderr", collector)),
    ]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    assert child.wait() == 0


def test_every_line_of_a_100k_line_run_arrives_once_in_order(
    backend: LogBackend, make_collector: CollectorFactory
) -> None:
    collector = make_collector(backend.url)
    run_child(f"for i in range({LINES}): print(f'line {{i:06d}}')", collector)
    counters = collector.close(10)

    messages = [record["message"] for record in backend.records()]
    assert messages == [f"line {i:06d}" for i in range(LINES)]
    assert counters["records"] == LINES
    assert counters["dropped"] == counters["failedBatches"] == 0
    assert counters["batches"] == len(backend.requests)
    assert counters["bytes"] == sum(len(gzip.decompress(r.raw)) for r in backend.requests)
    assert collector.peak_queue_bytes <= protocol.DEFAULT_LOGS_MAX_QUEUE_BYTES


def test_requests_are_gzip_json_with_auth_and_workspace_headers(
    backend: LogBackend, make_collector: CollectorFactory
) -> None:
    collector = make_collector(backend.url)
    collector.add("stdout", "hello")
    collector.close(5)

    (request,) = backend.requests
    assert request.path == "/logs"
    assert request.headers["content-encoding"] == "gzip"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers[LOGS_WORKSPACE_HEADER.lower()] == WORKSPACE
    assert request.headers[LOGS_BATCH_ID_HEADER.lower()] == f"{IDENTITY['pod']}-1"
    body = json.loads(gzip.decompress(request.raw))
    assert body == {**ATTRIBUTES, "logs": body["logs"]}
    assert list(body) == ["optimization_id", "job_id", "logs"]


def test_json_and_plain_lines_from_both_streams_carry_identity_and_attributes(
    backend: LogBackend, make_collector: CollectorFactory
) -> None:
    code = (
        "import json, logging, sys\n"
        "class Json(logging.Formatter):\n"
        "    def format(self, r):\n"
        "        return json.dumps({'timestamp': '2024-05-01T12:00:00Z', 'level': r.levelname,\n"
        "                           'logger_name': r.name, 'message': r.getMessage(), 'step': 3})\n"
        "h = logging.StreamHandler(sys.stdout); h.setFormatter(Json())\n"
        "log = logging.getLogger('train'); log.addHandler(h); log.setLevel('DEBUG')\n"
        "log.warning('loss %s', 0.5); sys.stdout.flush()\n"
        "print('plain out', flush=True)\n"
        "print('plain err', file=sys.stderr)\n"
    )
    collector = make_collector(backend.url)
    run_child(code, collector)
    collector.close(5)

    by_message = {record["message"]: record for record in backend.records()}
    assert set(by_message) == {"loss 0.5", "plain out", "plain err"}
    structured = by_message["loss 0.5"]
    # The record's own fields are the collector's; the line's are attributes.
    assert structured["timestamp"] != "2024-05-01T12:00:00Z"
    assert (structured["level"], structured["logger_name"]) == ("INFO", "stdout")
    attributes = structured["attributes"]
    assert (attributes["level"], attributes["logger_name"]) == ("WARNING", "train")
    assert attributes["timestamp"] == "2024-05-01T12:00:00Z"
    assert attributes["step"] == 3
    assert (by_message["plain out"]["level"], by_message["plain err"]["level"]) == (
        "INFO",
        "ERROR",
    )
    expected = {**ATTRIBUTES, **{f"execution_{k}": v for k, v in IDENTITY.items()}}
    for record in by_message.values():
        assert expected.items() <= record["attributes"].items()
    assert by_message["plain err"]["attributes"]["stream"] == "stderr"


def test_a_secret_value_never_reaches_the_backend(
    backend: LogBackend, make_collector: CollectorFactory
) -> None:
    secret = 's3cr3t"val\\ue'
    collector = make_collector(backend.url, secrets=(secret, "987654321"))
    collector.add("stdout", f"token={secret}")
    collector.add("stderr", json.dumps({"message": f"auth {secret}", "pin": 987654321}))
    collector.add("stdout", json.dumps({"message": "m", "nested": {"k": [secret]}}))
    collector.close(5)

    raw = b"".join(gzip.decompress(request.raw) for request in backend.requests)
    for form in (secret, json.dumps(secret)[1:-1], "987654321"):
        assert form.encode() not in raw
    messages = [record["message"] for record in backend.records()]
    assert messages == [f"token={REDACTED}", f"auth {REDACTED}", "m"]


def test_batches_respect_the_size_bound_and_the_flush_interval(
    backend: LogBackend, make_collector: CollectorFactory
) -> None:
    collector = make_collector(backend.url, maxBatchBytes=4096, flushIntervalMillis=100)
    collector.add("stdout", "first")
    # Shipped by the interval alone, long before close().
    assert backend.wait_for(lambda b: len(b.records()) == 1, timeout=5)
    for i in range(200):
        collector.add("stdout", f"line {i}")
    counters = collector.close(5)

    sizes = [len(gzip.decompress(request.raw)) for request in backend.requests]
    assert max(sizes) <= 4096
    assert counters["batches"] == len(sizes) > 5
    assert [r["message"] for r in backend.records()] == ["first"] + [
        f"line {i}" for i in range(200)
    ]


def test_lines_added_concurrently_from_two_threads_all_arrive(
    backend: LogBackend, make_collector: CollectorFactory
) -> None:
    collector = make_collector(backend.url)

    def write(stream: str) -> None:
        for i in range(5000):
            collector.add(stream, f"{stream} {i}")

    writers = [threading.Thread(target=write, args=(stream,)) for stream in ("stdout", "stderr")]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert collector.close(5)["records"] == 10_000
    for stream in ("stdout", "stderr"):
        got = [r["message"] for r in backend.records() if r["attributes"]["stream"] == stream]
        assert got == [f"{stream} {i}" for i in range(5000)]
