"""How a run ended, as `reason`, `code` and one readable sentence (what happened, what to do)."""

from __future__ import annotations

import errno

from execution_runner import bootstrap, protocol, sigs
from execution_runner.child_report import FORGED, parse_child_report
from execution_runner.config import RunnerConfig
from execution_runner.output import Line
from execution_runner.protocol import Reason, RlimitKey
from execution_runner.result import ResultProblem, from_last_line, from_report
from execution_runner.supervise import CANCELLED, SIGNALLED_RUNNER, TIMEOUT, ChildExit

# `typing` and `collections.abc` cost milliseconds of start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Outcome:
    __slots__ = ("consumed_last_line", "error", "message", "reason", "result")

    def __init__(
        self,
        reason: str,
        message: str,
        result: Any = None,
        error: dict[str, str] | None = None,
        consumed_last_line: bool = False,
    ) -> None:
        self.reason = reason
        self.message = message
        self.result = result
        self.error = error  # {type, message, traceback} of a failure, if there is one
        # The held-back stdout line was the result, so it is not a log record.
        self.consumed_last_line = consumed_last_line

    @property
    def code(self) -> int:
        return protocol.code_for(self.reason)


def size_text(n: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} bytes"


def _summary(error: dict[str, str]) -> str:
    first = (error.get("message") or "").strip().splitlines()
    text = f"{error.get('type')}: {first[0]}" if first else str(error.get("type"))
    return text if len(text) <= 200 else text[:197] + "..."


def _limit_hit(chain: list[dict[str, Any]], limits: dict[str, int]) -> str | None:
    """Which rlimit, if any, the exception chain shows the code ran into."""
    for link in chain:
        kind, code, text = link.get("type"), link.get("errno"), str(link.get("message"))
        if RlimitKey.MEMORY in limits and kind == "MemoryError":
            return RlimitKey.MEMORY
        fork_failed = kind == "BlockingIOError" and code == errno.EAGAIN
        if RlimitKey.PROCESSES in limits and (fork_failed or "can't start new thread" in text):
            return RlimitKey.PROCESSES
        if RlimitKey.FILE_SIZE in limits and code == errno.EFBIG:
            return RlimitKey.FILE_SIZE
    return None


def from_exception(report: dict[str, Any], config: RunnerConfig) -> Outcome:
    error = {key: str(report["error"].get(key, "")) for key in ("type", "message", "traceback")}
    limits = config.rlimits
    hit = _limit_hit(report.get("chain") or [], limits)
    summary = _summary(error)
    if hit == RlimitKey.MEMORY:
        return Outcome(
            Reason.MEMORY_LIMIT_EXCEEDED,
            "The code ran out of memory under rlimits.memory "
            f"({size_text(limits[RlimitKey.MEMORY])}) and raised {summary}; "
            "use less memory or raise rlimits.memory.",
            error=error,
        )
    if hit == RlimitKey.PROCESSES:
        return Outcome(
            Reason.PROCESS_LIMIT_EXCEEDED,
            f"The code could not start another process or thread under rlimits.processes "
            f"({limits[RlimitKey.PROCESSES]}) and raised {summary}; start fewer or raise "
            "rlimits.processes.",
            error=error,
        )
    if hit == RlimitKey.FILE_SIZE:
        return Outcome(
            Reason.FILE_SIZE_LIMIT_EXCEEDED,
            f"The code tried to write a file larger than rlimits.fileSize "
            f"({size_text(limits[RlimitKey.FILE_SIZE])}) and raised {summary}; write less or raise "
            "rlimits.fileSize.",
            error=error,
        )
    return Outcome(
        Reason.USER_ERROR,
        f"The code raised {summary}; fix the code (error.traceback shows where).",
        error=error,
    )


def from_signal(sig: int, child: ChildExit, config: RunnerConfig, oom_killed: bool) -> Outcome:
    limits = config.rlimits
    cpu = child.rusage.ru_utime + child.rusage.ru_stime if child.rusage else 0.0
    cpu_limit = limits.get(RlimitKey.CPU_SECONDS)
    if sig == sigs.SIGXCPU or (sig == sigs.SIGKILL and cpu_limit is not None and cpu >= cpu_limit):
        return Outcome(
            Reason.CPU_LIMIT_EXCEEDED,
            f"The code used more than rlimits.cpuSeconds ({cpu_limit} s) of CPU time and was "
            "stopped; make it faster or raise rlimits.cpuSeconds.",
        )
    if sig == sigs.SIGXFSZ:
        limit = (
            size_text(limits[RlimitKey.FILE_SIZE]) if RlimitKey.FILE_SIZE in limits else "the limit"
        )
        return Outcome(
            Reason.FILE_SIZE_LIMIT_EXCEEDED,
            f"The code wrote a file larger than rlimits.fileSize ({limit}) and was stopped; "
            "write less or raise rlimits.fileSize.",
        )
    if sig == sigs.SIGSEGV and RlimitKey.STACK in limits:
        return Outcome(
            Reason.STACK_LIMIT_EXCEEDED,
            f"The code crashed with a segmentation fault under rlimits.stack "
            f"({size_text(limits[RlimitKey.STACK])}), most likely a stack overflow from deep "
            "recursion; recurse less deeply or raise rlimits.stack.",
        )
    if sig == sigs.SIGKILL and oom_killed:
        return Outcome(
            Reason.OOM_KILLED,
            "The code was killed by the out-of-memory killer (the container's memory limit "
            "was reached); use less memory or raise resources.limits.memory.",
        )
    name = sigs.name(sig)
    if sig == sigs.SIGKILL:
        return Outcome(
            Reason.USER_ERROR,
            "The code was killed by SIGKILL, which the runner did not send (the code itself "
            "or the kernel's out-of-memory killer); check the code's memory use.",
        )
    return Outcome(
        Reason.USER_ERROR, f"The code was killed by signal {name}; fix the code or its limits."
    )


def _completed(
    report: dict[str, Any] | None, child: ChildExit, config: RunnerConfig, last_line: Line | None
) -> Outcome:
    limit = config.max_result_bytes
    from_line = False
    try:
        has_result, value = from_report(report or {}, child.report_overflow, limit)
        if not has_result:
            from_line, value = from_last_line(last_line, limit, config.require_result)
    except ResultProblem as problem:
        return Outcome(problem.reason, problem.message, consumed_last_line=problem.from_last_line)
    return Outcome(
        Reason.COMPLETED, "The code completed.", result=value, consumed_last_line=from_line
    )


def _code_stopped_its_runner(child: ChildExit) -> Outcome:
    sig, pid = child.runner_signal or (sigs.SIGTERM, 0)
    name = sigs.name(sig)
    return Outcome(
        Reason.USER_ERROR,
        f"The code (pid {pid}) sent {name} to its runner and was stopped; a run cannot stop "
        "its own runner: remove the kill (e.g. os.kill(1, ...) or kill -1).",
    )


def _forged() -> Outcome:
    return Outcome(
        Reason.USER_ERROR,
        "The code wrote to the runner's private report channel and was not believed; "
        "do not write to file descriptors the code did not open.",
    )


def classify(  # noqa: PLR0911  # one return per outcome reads best
    child: ChildExit, config: RunnerConfig, last_line: Line | None, oom_killed: bool
) -> Outcome:
    if child.cause == TIMEOUT:
        return Outcome(
            Reason.TIMEOUT,
            f"The code ran longer than timeoutSeconds ({config.timeout_seconds:g} s) and was "
            "stopped; make it faster or raise timeoutSeconds.",
        )
    if child.cause == CANCELLED:
        return Outcome(Reason.CANCELLED, "The execution was cancelled and the code was stopped.")
    if child.cause == SIGNALLED_RUNNER:
        return _code_stopped_its_runner(child)
    report = parse_child_report(bytes(child.report), child.report_overflow)
    if report.status == FORGED:
        return _forged()
    if report.status == bootstrap.STATUS_BOOTSTRAP_ERROR:
        return Outcome(
            Reason.RUNNER_ERROR,
            f"The runner could not start the code: {report.doc['message']}; "
            "check the Execution's rlimits.",
        )
    if report.status == bootstrap.STATUS_ERROR:
        return from_exception(report.doc, config)
    returncode = child.returncode or 0
    if returncode < 0:
        return from_signal(-returncode, child, config, oom_killed)
    if returncode > 0:
        return Outcome(
            Reason.USER_ERROR,
            f"The code exited with status {returncode} before it finished; "
            "check its logs and fix the code.",
        )
    if report.status == bootstrap.STATUS_INVALID_RESULT:
        return Outcome(
            Reason.INVALID_RESULT,
            f"The code's `result` is not JSON ({report.doc['message']}); "
            "assign only JSON-serialisable values (dict, list, str, int, float, bool, None).",
        )
    return _completed(report.doc or None, child, config, last_line)
