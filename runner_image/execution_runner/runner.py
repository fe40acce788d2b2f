"""`python -m execution_runner`: payload in, child run, outcome reported.

Order matters for start-up: only light modules load before the child starts;
the log sink (and whatever it imports) is built while the child boots.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from execution_runner import procs, protocol
from execution_runner.child_env import build_child_env, secret_values
from execution_runner.errors import RunnerError
from execution_runner.outcome import Outcome, classify
from execution_runner.payload import load_payload
from execution_runner.protocol import Reason
from execution_runner.redact import Redactor
from execution_runner.report import exit_status, fit, termination_document
from execution_runner.sink import NullSink, zero_counters
from execution_runner.streams import STDOUT, OutputRouter
from execution_runner.supervise import ChildExit, SignalWakeup, Supervisor

if TYPE_CHECKING:
    from execution_runner.config import RunnerConfig
    from execution_runner.sink import LogSink, SinkFactory

# The final log flush must fit in the pod's termination grace period (30 s by default).
LOGS_FLUSH_SECONDS = 5.0
# Error reports may be long, results are capped; ASCII escapes can take 6 bytes a char.
REPORT_SLACK_BYTES = 512 * 1024


def _say(text: str) -> None:
    """A line of the runner's own on stderr (it reaches `kubectl logs`)."""
    sys.stderr.write(f"execution_runner: {text}\n")
    sys.stderr.flush()


def _make_sink(factory: SinkFactory, config: RunnerConfig, redact: Redactor) -> LogSink:
    # A broken log pipeline must never fail the execution: fall back to mirroring only.
    try:
        sink = factory(config, redact)
        sink.start()
    except Exception as exc:
        _say(f"log shipping disabled: {type(exc).__name__}: {redact(str(exc))}")
        return NullSink()
    return sink


def _close_sink(sink: LogSink) -> dict[str, int]:
    try:
        return {**zero_counters(), **sink.close(LOGS_FLUSH_SECONDS)}
    except Exception as exc:
        _say(f"log flush failed: {type(exc).__name__}")
        return zero_counters()


def _redacted(outcome: Outcome, redact: Callable[[str], str]) -> Outcome:
    error = {k: redact(v) for k, v in outcome.error.items()} if outcome.error else None
    return Outcome(outcome.reason, redact(outcome.message), outcome.result, error)


def _write_termination_message(path: str, data: bytes) -> None:
    try:
        with open(path, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        _say(f"cannot write the termination message to {path}: {exc.strerror}")


def _internal_error(exc: BaseException) -> Outcome:
    import traceback  # noqa: PLC0415

    detail = f"{type(exc).__name__}: {exc}"
    return Outcome(
        Reason.RUNNER_ERROR,
        f"The runner failed ({detail[:200]}); this is a bug in the runner, not in the code.",
        error={
            "type": type(exc).__name__,
            "message": str(exc),
            "traceback": "".join(traceback.format_exception(exc)),
        },
    )


def run(sink_factory: SinkFactory, environ: Mapping[str, str] | None = None) -> int:
    """Runs the payload's code once and reports; returns the exit status (see ExitStatus)."""
    environ = os.environ if environ is None else environ
    termination_path = environ.get(protocol.TERMINATION_LOG_ENV, protocol.DEFAULT_TERMINATION_LOG)
    wakeup = SignalWakeup()
    redact = Redactor(())
    sink: LogSink = NullSink()
    supervisor: Supervisor | None = None
    child: ChildExit | None = None
    try:
        procs.harden_runner()
        payload = load_payload(environ.get(protocol.PAYLOAD_DIR_ENV, protocol.DEFAULT_PAYLOAD_DIR))
        config = payload.config
        redact = Redactor(secret_values(config, environ))
        router = OutputRouter(redact, sys.stdout.buffer, sys.stderr.buffer, config.max_result_bytes)
        wakeup.drain()
        if wakeup.stop_requested:
            outcome = Outcome(Reason.CANCELLED, "The execution was cancelled before it started.")
        else:
            oom_before = procs.oom_kill_count()
            supervisor = Supervisor(
                wakeup,
                router,
                report_cap=6 * config.max_result_bytes + REPORT_SLACK_BYTES,
                timeout=config.timeout_seconds,
                kill_grace=config.kill_grace_seconds,
            )
            child_env = build_child_env(config, environ, _say)
            supervisor.start(payload.code_path, payload.input_bytes, config.rlimits, child_env)
            sink = _make_sink(sink_factory, config, redact)
            router.attach(sink)
            child = supervisor.wait()
            oom_after = procs.oom_kill_count()
            oom_killed = oom_before is not None and oom_after is not None and oom_after > oom_before
            last_line = router.take_last_stdout_line()
            outcome = classify(child, config, last_line, oom_killed)
            if last_line is not None and not outcome.consumed_last_line:
                router.emit(STDOUT, last_line)
                router.flush()
    except RunnerError as exc:
        outcome = Outcome(
            Reason.RUNNER_ERROR,
            f"The runner could not run the code: {exc}; fix the Execution or its payload.",
        )
    except Exception as exc:
        if supervisor is not None:
            supervisor.abort()
        outcome = _internal_error(exc)
    outcome = _redacted(outcome, redact)
    if outcome.reason == Reason.RUNNER_ERROR:
        _say(outcome.message)
    logs = _close_sink(sink)
    _write_termination_message(termination_path, fit(termination_document(outcome, child, logs)))
    # Last line of stdout: the operator reads it through the pod log API.
    sys.stdout.buffer.write(protocol.frame_result(outcome.result, outcome.error).encode() + b"\n")
    sys.stdout.buffer.flush()
    return exit_status(outcome.reason)
