"""The runner's entry: payload in, the user code forked, then `finish` reports.

Order matters for start-up: only what starting the child needs loads before the
fork; redaction, the output router, the log sink, the outcome and the report
(module `finish`, and whatever it imports) load while the child runs, and the
log credentials are read only after the fork.
"""

from __future__ import annotations

import os

from execution_runner import procs, protocol
from execution_runner.child import ChildSetup
from execution_runner.child_env import build_child_env
from execution_runner.limits import bootstrap_limits
from execution_runner.payload import load_payload
from execution_runner.signals import SignalChannel
from execution_runner.supervise import Supervisor

# `typing` and `collections.abc` cost milliseconds of start-up: for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from execution_runner.config import RunnerConfig
    from execution_runner.sink import SinkFactory

# Error reports may be long, results are capped; ASCII escapes can take 6 bytes a char.
REPORT_SLACK_BYTES = 512 * 1024


def _warn(text: str) -> None:
    from execution_runner.finish import say  # noqa: PLC0415  # rare: a reserved name dropped

    say(text)


def run(sink_factory: SinkFactory, environ: Mapping[str, str] | None = None) -> int:
    """Runs the payload's code once and reports; returns the exit status (see ExitStatus)."""
    environ = os.environ if environ is None else environ
    signals = SignalChannel()
    supervisor: Supervisor | None = None
    config: RunnerConfig | None = None
    oom_before: int | None = None
    problem: BaseException | None = None
    try:
        procs.harden_runner()
        payload = load_payload(environ.get(protocol.PAYLOAD_DIR_ENV, protocol.DEFAULT_PAYLOAD_DIR))
        config = payload.config
        signals.drain(None)
        if not signals.stop_requested:
            oom_before = procs.oom_kill_count()
            child_env = build_child_env(config, environ, _warn)
            limits = bootstrap_limits(config.rlimits)
            supervisor = Supervisor(
                signals,
                report_cap=6 * config.max_result_bytes + REPORT_SLACK_BYTES,
                timeout=config.timeout_seconds,
                kill_grace=config.kill_grace_seconds,
            )
            supervisor.start(
                ChildSetup(payload.code_path, payload.data, payload.payload_type, limits, child_env)
            )
    except Exception as exc:  # RunnerError: a bad payload; anything else: a runner bug
        problem = exc
    # Loaded while the child runs (see the module's docstring).
    from execution_runner.finish import conclude  # noqa: PLC0415

    return conclude(
        sink_factory,
        environ,
        config=config,
        supervisor=supervisor,
        oom_before=oom_before,
        problem=problem,
    )
