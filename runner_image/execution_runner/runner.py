"""`python -m execution_runner`: payload in, child run, outcome reported.

Order matters for start-up: only light modules load before the child is forked;
the redaction, the output router and the log sink (and whatever they import) are
built while the child runs, and the log credentials are read only after the fork.
"""

from __future__ import annotations

import os
import sys

from execution_runner import fastjson, procs, protocol
from execution_runner.child import ChildSetup
from execution_runner.child_env import build_child_env, secret_values
from execution_runner.errors import RunnerError
from execution_runner.limits import bootstrap_limits
from execution_runner.outcome import Outcome, classify
from execution_runner.output import OutputRouter
from execution_runner.payload import load_payload
from execution_runner.protocol import LogCounters, Reason, TerminationKey
from execution_runner.redact import Redactor
from execution_runner.report import exit_status, fit, termination_document
from execution_runner.signals import SignalChannel
from execution_runner.sink import NullSink
from execution_runner.streams import STDOUT
from execution_runner.supervise import ChildExit, Supervisor

# `typing` and `collections.abc` cost milliseconds of start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

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


def _close_sink(sink: LogSink) -> LogCounters:
    try:
        return sink.close(LOGS_FLUSH_SECONDS)
    except Exception as exc:
        _say(f"log flush failed: {type(exc).__name__}")
        return protocol.zero_log_counters()


def _valid_text(text: str) -> str:
    """`text` without lone surrogates (they cannot be UTF-8): each becomes "?"."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _redacted(outcome: Outcome, redact: Callable[[str], str]) -> Outcome:
    def clean(text: str) -> str:
        return redact(_valid_text(str(text)))

    error = {k: clean(v) for k, v in outcome.error.items()} if outcome.error else None
    return Outcome(outcome.reason, clean(outcome.message), outcome.result, error)


def _write_termination_message(path: str, data: bytes) -> None:
    # Never follows a link or blocks on a FIFO the code might have put there; at most 4096 bytes.
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o644)
        try:
            os.write(fd, data[: protocol.TERMINATION_MESSAGE_MAX_BYTES])
        finally:
            os.close(fd)
    except OSError as exc:
        _say(f"cannot write the termination message to {path}: {exc.strerror}")


def _termination_message(outcome: Outcome, child: ChildExit | None, logs: LogCounters) -> bytes:
    try:
        return fit(termination_document(outcome, child, logs))
    except Exception as exc:  # a valid message whatever went wrong above
        _say(f"termination message failed: {type(exc).__name__}")
        fallback = {
            TerminationKey.CODE: outcome.code,
            TerminationKey.REASON: outcome.reason,
            TerminationKey.MESSAGE: "The runner could not report the details of this outcome.",
        }
        return fastjson.dumps(fallback).encode()


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
    signals = SignalChannel()
    redact = Redactor(())
    sink: LogSink = NullSink()
    supervisor: Supervisor | None = None
    child: ChildExit | None = None
    config: RunnerConfig | None = None
    try:
        procs.harden_runner()
        payload = load_payload(environ.get(protocol.PAYLOAD_DIR_ENV, protocol.DEFAULT_PAYLOAD_DIR))
        config = payload.config
        signals.drain(None)
        if signals.stop_requested:
            outcome = Outcome(Reason.CANCELLED, "The execution was cancelled before it started.")
        else:
            oom_before = procs.oom_kill_count()
            supervisor = Supervisor(
                signals,
                report_cap=6 * config.max_result_bytes + REPORT_SLACK_BYTES,
                timeout=config.timeout_seconds,
                kill_grace=config.kill_grace_seconds,
            )
            child_env = build_child_env(config, environ, _say)
            limits = bootstrap_limits(config.rlimits)
            supervisor.start(
                ChildSetup(payload.code_path, payload.data, payload.payload_type, limits, child_env)
            )
            redact = Redactor(secret_values(config, environ))
            router = OutputRouter(
                redact, sys.stdout.buffer, sys.stderr.buffer, config.max_result_bytes
            )
            sink = _make_sink(sink_factory, config, redact)
            router.attach(sink)
            child = supervisor.wait(router)
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
    if not redact and config is not None:  # failed before the fork: the secrets still go
        redact = Redactor(secret_values(config, environ))
    outcome = _redacted(outcome, redact)
    if outcome.reason == Reason.RUNNER_ERROR:
        _say(outcome.message)
    logs = _close_sink(sink)
    _write_termination_message(termination_path, _termination_message(outcome, child, logs))
    # Last line of stdout: the operator reads it through the pod log API.
    sys.stdout.buffer.write(protocol.frame_result(outcome.result, outcome.error).encode() + b"\n")
    sys.stdout.buffer.flush()
    return exit_status(outcome.reason)
