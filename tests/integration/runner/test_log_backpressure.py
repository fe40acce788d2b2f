"""No log loss while the backend accepts; bounded, exactly counted drops while it is down.

The real runner runs code that prints as fast as it can; its collector ships to a
real HTTP backend on loopback (or to a closed port).
"""

from __future__ import annotations

import json
import threading
import time

from execution_runner import protocol
from execution_runner.protocol import LogCounterKey, LogsOverflow, Reason

from tests.integration.runner.harness import Payload, RunnerRun, Workdir, finish, start_runner
from tests.support.log_backend import LogBackend, closed_port, decode_body

LINES = 200_000
PRINT_FAST = f"""
import sys
write = sys.stdout.write
for i in range({LINES}):
    write(f"line {{i}}\\n")
result = "done"
"""
# Small against 200,000 lines (~36 MiB charged): the queue fills many times over.
SMALL_QUEUE = 2 * 1024 * 1024


def _peak_rss_kib(pid: int, stop: threading.Event, peak: list[int]) -> None:
    """Samples the process's VmHWM (its peak RSS so far) until `stop` is set."""
    while not stop.wait(0.05):
        try:
            with open(f"/proc/{pid}/status") as handle:
                hwm = next(line for line in handle if line.startswith("VmHWM:"))
        except (OSError, StopIteration):
            continue
        peak[0] = max(peak[0], int(hwm.split()[1]))


def _run(
    workdir: Workdir, endpoint: str, timeout: int | None = 120, **logs: object
) -> tuple[RunnerRun, int]:
    """Runs the runner; returns the run and the highest VmHWM (KiB) seen while it ran.

    `timeout` None: runner.json has no timeoutSeconds (the runner's default).
    """
    config: dict[str, object] = {"logs": {"endpoint": endpoint, **logs}}
    if timeout is not None:
        config["timeoutSeconds"] = timeout
    workdir.write_payload(Payload(PRINT_FAST, config=config))
    started = time.monotonic()
    proc = start_runner(workdir)
    peak, stop = [0], threading.Event()
    sampler = threading.Thread(target=_peak_rss_kib, args=(proc.pid, stop, peak))
    sampler.start()
    try:
        run = finish(proc, workdir, started)  # reads the pipes while the runner writes
    finally:
        stop.set()
        sampler.join()
    return run, peak[0]


def _delivered_lines(backend: LogBackend) -> list[str]:
    messages = []
    for request in backend.requests:
        body = decode_body(request.raw, request.headers.get("content-encoding", ""))
        messages += [record["message"] for record in body["logs"]]
    return [m for m in messages if m.startswith("line ")]


def test_healthy_backend_gets_every_line_of_a_fast_burst(workdir: Workdir) -> None:
    with LogBackend() as backend:
        run, _ = _run(workdir, backend.url, maxQueueBytes=SMALL_QUEUE)
        delivered = _delivered_lines(backend)
    assert run.reason == Reason.COMPLETED
    counters = run.termination[protocol.TerminationKey.LOGS]
    assert counters[LogCounterKey.DROPPED] == 0
    assert counters[LogCounterKey.RECORDS] == LINES
    assert len(delivered) == LINES
    assert set(delivered) == {f"line {i}" for i in range(LINES)}
    # Mirrored to the container log too, every line.
    assert len([line for line in run.log_lines if line.startswith("line ")]) == LINES


def test_a_burst_under_the_default_limits_completes_with_every_line(workdir: Workdir) -> None:
    """No default limit (timeout, rlimits) stops the runner itself during a burst."""
    with LogBackend() as backend:
        run, _ = _run(workdir, backend.url, timeout=None)
        delivered = _delivered_lines(backend)
    assert (run.returncode, run.reason) == (0, Reason.COMPLETED)
    assert run.termination[protocol.TerminationKey.LOGS][LogCounterKey.RECORDS] == LINES
    assert len(delivered) == LINES


def test_drop_policy_never_waits_and_counts_what_it_drops(workdir: Workdir) -> None:
    with LogBackend() as backend:
        backend.hang()  # accepts connections, never answers: nothing leaves the queue
        run, _ = _run(workdir, backend.url, maxQueueBytes=SMALL_QUEUE, overflow=LogsOverflow.DROP)
    assert run.reason == Reason.COMPLETED
    counters = run.termination[protocol.TerminationKey.LOGS]
    assert counters[LogCounterKey.DROPPED] > LINES // 2
    assert counters[LogCounterKey.RECORDS] + counters[LogCounterKey.DROPPED] == LINES
    assert run.seconds < 60


def test_a_stalled_backend_holds_the_code_back_only_for_a_while(workdir: Workdir) -> None:
    with LogBackend() as backend:
        backend.hang()
        run, _ = _run(workdir, backend.url, maxQueueBytes=SMALL_QUEUE)
    assert run.reason == Reason.COMPLETED
    counters = run.termination[protocol.TerminationKey.LOGS]
    assert counters[LogCounterKey.RECORDS] + counters[LogCounterKey.DROPPED] == LINES
    # Held back while the request was young, then counted as failing: the code finished.
    assert run.seconds < 60


def test_backend_down_drops_exactly_with_bounded_memory(workdir: Workdir) -> None:
    run, peak_kib = _run(
        workdir, f"http://127.0.0.1:{closed_port()}/logs", maxQueueBytes=SMALL_QUEUE
    )
    assert run.reason == Reason.COMPLETED
    counters = run.termination[protocol.TerminationKey.LOGS]
    assert counters[LogCounterKey.RECORDS] == 0
    assert counters[LogCounterKey.DROPPED] == LINES
    # A dead backend does not hold the code back: no request ever waits long.
    assert run.seconds < 60
    # The queue's bound (plus its slack) and the interpreter, never the whole burst.
    assert 0 < peak_kib < 96 * 1024, peak_kib
    assert json.dumps(counters)
