"""After the fork: the code's output routed, the outcome judged and reported.

Imported by the runner once the child is running (or when it could not start),
so none of this delays the user code: redaction, the output router, the log
sink, the outcome and the report load while the code runs on the other core.
"""

from __future__ import annotations

import os
import sys

from execution_runner import fastjson, procs, protocol, sigs
from execution_runner.child_env import secret_values
from execution_runner.errors import RunnerError
from execution_runner.outcome import Outcome, classify
from execution_runner.output import OutputRouter
from execution_runner.protocol import LogCounters, Reason, TerminationKey
from execution_runner.redact import Redactor
from execution_runner.report import exit_status, fit, termination_document
from execution_runner.sink import NullSink
from execution_runner.streams import STDOUT

# `typing` and `collections.abc` cost milliseconds of start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from execution_runner.config import RunnerConfig
    from execution_runner.sink import LogSink, SinkFactory
    from execution_runner.supervise import ChildExit, Supervisor

# The final log flush must fit in the pod's termination grace period (30 s by default).
LOGS_FLUSH_SECONDS = 5.0


def say(text: str) -> None:
    """A line of the runner's own on stderr (it reaches `kubectl logs`)."""
    sys.stderr.write(f"execution_runner: {text}\n")
    sys.stderr.flush()


def _make_sink(factory: SinkFactory, config: RunnerConfig, redact: Redactor) -> LogSink:
    # A broken log pipeline must never fail the execution: fall back to mirroring only.
    try:
        sink = factory(config, redact)
        sink.start()
    except Exception as exc:
        say(f"log shipping disabled: {type(exc).__name__}: {redact(str(exc))}")
        return NullSink()
    return sink


def _close_sink(sink: LogSink) -> LogCounters:
    try:
        return sink.close(LOGS_FLUSH_SECONDS)
    except Exception as exc:
        say(f"log flush failed: {type(exc).__name__}")
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
        say(f"cannot write the termination message to {path}: {exc.strerror}")


def _termination_message(outcome: Outcome, child: ChildExit | None, logs: LogCounters) -> bytes:
    try:
        return fit(termination_document(outcome, child, logs))
    except Exception as exc:  # a valid message whatever went wrong above
        say(f"termination message failed: {type(exc).__name__}")
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


def _oom_kills_since(before: int | None) -> bool:
    after = procs.oom_kill_count()
    return before is not None and after is not None and after > before


def _watch(
    supervisor: Supervisor,
    config: RunnerConfig,
    redact: Redactor,
    sink: LogSink,
    oom_before: int | None,
) -> tuple[Outcome, ChildExit]:
    """Drains the running child's output until it ends; judges how it ended."""
    router = OutputRouter(redact, sys.stdout.buffer, sys.stderr.buffer, config.max_result_bytes)
    router.attach(sink)
    child = supervisor.wait(router)
    # Only a SIGKILL can be the OOM killer's: any other ending skips reading the cgroup.
    oom_killed = child.returncode == -sigs.SIGKILL and _oom_kills_since(oom_before)
    last_line = router.take_last_stdout_line()
    outcome = classify(child, config, last_line, oom_killed)
    if last_line is not None and not outcome.consumed_last_line:
        router.emit(STDOUT, last_line)
        router.flush()
    return outcome, child


def _unstarted(problem: BaseException | None) -> Outcome:
    if isinstance(problem, RunnerError):
        return Outcome(
            Reason.RUNNER_ERROR,
            f"The runner could not run the code: {problem}; fix the Execution or its payload.",
        )
    if problem is not None:
        return _internal_error(problem)
    return Outcome(Reason.CANCELLED, "The execution was cancelled before it started.")


def conclude(
    sink_factory: SinkFactory,
    environ: Mapping[str, str],
    *,
    config: RunnerConfig | None,
    supervisor: Supervisor | None,
    oom_before: int | None,
    problem: BaseException | None,
) -> int:
    """Watches the started child (`supervisor`), or reports why there is none; returns the
    exit status. The log credentials are read here, after the fork."""
    termination_path = environ.get(protocol.TERMINATION_LOG_ENV, protocol.DEFAULT_TERMINATION_LOG)
    redact = Redactor(secret_values(config, environ)) if config is not None else Redactor(())
    sink: LogSink = NullSink()
    child: ChildExit | None = None
    if supervisor is None or config is None or problem is not None:
        if supervisor is not None:  # failed while starting the child: nothing may survive
            supervisor.abort()
        outcome = _unstarted(problem)
    else:
        try:
            sink = _make_sink(sink_factory, config, redact)
            outcome, child = _watch(supervisor, config, redact, sink, oom_before)
        except Exception as exc:
            supervisor.abort()
            outcome = _internal_error(exc)
    outcome = _redacted(outcome, redact)
    if outcome.reason == Reason.RUNNER_ERROR:
        say(outcome.message)
    logs = _close_sink(sink)
    _write_termination_message(termination_path, _termination_message(outcome, child, logs))
    # Last line of stdout: the operator reads it through the pod log API.
    sys.stdout.buffer.write(protocol.frame_result(outcome.result, outcome.error).encode() + b"\n")
    sys.stdout.buffer.flush()
    return exit_status(outcome.reason)
