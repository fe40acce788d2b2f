"""In the user process: applies rlimits, then runs the user code as `__main__`.

Called in the child the runner forked (child.py) with the code's path, the
report fd, the limits and the input already parsed. One JSON report goes to
the report fd (a pipe, not stdout), so whatever the code prints cannot change it:

    {"status": "ok", "hasResult": true, "result": <value>}   (hasResult false: no `result`)
    {"status": "error", "error": {type, message, traceback}, "chain": [{type, errno}, ...]}
    {"status": "invalidResult", "message": "..."}
    {"status": "bootstrapError", "message": "..."}

Right before the user code runs, the bootstrap writes STARTED_MARK: the code can
write to the same fd, so whatever follows the mark is the code's responsibility
(a "bootstrapError" after it is forged, a user outcome).
"""

from __future__ import annotations

import os
import resource
import sys

from execution_runner import libc, sigs
from execution_runner.fastjson import dumps, loads

# `typing` costs milliseconds of start-up; the annotations need it only for checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from types import CodeType, ModuleType, TracebackType
    from typing import Any

STATUS_OK = "ok"
STATUS_ERROR = "error"
STATUS_INVALID_RESULT = "invalidResult"
STATUS_BOOTSTRAP_ERROR = "bootstrapError"
STARTED_MARK = b"S"
# Bounds the error report so it always fits the runner's report buffer.
MAX_ERROR_TEXT = 64 * 1024
MAX_CHAIN = 8
# types.ModuleType without importing `types` (start-up): the type of any module.
_MODULE_TYPE = type(sys)


def apply_rlimits(limits: list[tuple[str, int, int, int]]) -> None:
    """Sets each [name, resource, soft, hard] the runner computed; no core dumps."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for name, which, soft, hard in limits:
        try:
            resource.setrlimit(which, (soft, hard))
        except (OSError, ValueError, OverflowError) as exc:  # Overflow: beyond a C long
            raise ValueError(f"cannot set rlimits.{name} to {soft}: {exc}") from exc


def report_setup_failure(fd: int, message: str) -> None:
    """A bootstrapError report: the code never started (a RunnerError, not the code's)."""
    try:  # noqa: SIM105  # contextlib costs start-up
        _write_report(fd, dumps({"status": STATUS_BOOTSTRAP_ERROR, "message": message}))
    except OSError:
        pass  # the runner sees no report and the exit status


def _write_report(fd: int, text: str) -> None:
    data = text.encode()
    while data:
        data = data[os.write(fd, data) :]


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ERROR_TEXT else text[: MAX_ERROR_TEXT - 3] + "..."


def _type_name(exc: BaseException) -> str:
    cls = type(exc)
    if cls.__module__ in ("builtins", "__main__"):
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _user_frames(tb: TracebackType | None, code_path: str) -> TracebackType | None:
    """The traceback from the first frame of the user's file on (bootstrap frames dropped)."""
    while tb is not None and tb.tb_frame.f_code.co_filename != code_path:
        tb = tb.tb_next
    return tb


def _chain(exc: BaseException) -> list[dict[str, Any]]:
    """The exception and its causes/contexts: what the runner classifies limits by."""
    links: list[dict[str, Any]] = []
    current: BaseException | None = exc
    while current is not None and len(links) < MAX_CHAIN:
        links.append(
            {
                "type": _type_name(current),
                "errno": current.errno if isinstance(current, OSError) else None,
                "message": str(current)[:200],
            }
        )
        current = current.__cause__ or current.__context__
    return links


def error_report(exc: BaseException, code_path: str) -> dict[str, Any]:
    import traceback  # noqa: PLC0415  # only failures pay for it

    exc.__traceback__ = _user_frames(exc.__traceback__, code_path)
    for link in (exc.__cause__, exc.__context__):
        if link is not None:
            link.__traceback__ = _user_frames(link.__traceback__, code_path)
    text = "".join(traceback.format_exception(exc))
    return {
        "status": STATUS_ERROR,
        "error": {"type": _type_name(exc), "message": _clip(str(exc)), "traceback": _clip(text)},
        "chain": _chain(exc),
    }


def install_json_logging(logging: ModuleType) -> None:
    """Root handler: one JSON object per line on stderr, extra attributes kept."""
    import time  # noqa: PLC0415

    standard = {*vars(logging.makeLogRecord({})), "message", "asctime", "taskName"}

    class JsonLineHandler(logging.Handler):  # type: ignore[name-defined,misc]
        def emit(self, record: Any) -> None:
            try:
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                doc: dict[str, Any] = {
                    "timestamp": f"{stamp}.{int(record.msecs):03d}Z",
                    "level": record.levelname,
                    "logger_name": record.name,
                    "message": record.getMessage(),
                }
                if record.exc_info:
                    doc["exception"] = logging.Formatter().formatException(record.exc_info)
                for key, value in vars(record).items():
                    if key not in standard and not key.startswith("_"):
                        doc[key] = value
                sys.stderr.write(dumps(doc, default=str, ensure_ascii=False) + "\n")
                sys.stderr.flush()
            except Exception:
                self.handleError(record)

    root = logging.getLogger()
    root.addHandler(JsonLineHandler())
    root.setLevel(logging.INFO)


class LoggingOnImport:
    """A meta path finder: configures `logging` when the code first imports it.

    `logging` (with `traceback`, `string`, ...) costs several milliseconds, and most
    code never logs; the handler is in place before any record can be emitted.
    """

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name != "logging":
            return None
        sys.meta_path.remove(self)
        for finder in sys.meta_path:
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                load = spec.loader.exec_module

                def exec_module(module: ModuleType, load: Any = load) -> None:
                    load(module)
                    install_json_logging(module)

                spec.loader.exec_module = exec_module  # type: ignore[method-assign]
                return spec
        return None


def _result_report(namespace: dict[str, Any]) -> str:
    if "result" not in namespace:
        return dumps({"status": STATUS_OK, "hasResult": False})
    try:
        # ASCII: a lone surrogate stays escaped, so the report is always valid UTF-8.
        text = dumps(namespace["result"], allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        message = f"{type(exc).__name__}: {str(exc)[:300]}"
        return dumps({"status": STATUS_INVALID_RESULT, "message": message})
    # Spliced: the result may be large and is already JSON.
    return '{"status":"ok","hasResult":true,"result":' + text + "}"


def _compile(code_path: str) -> CodeType:
    with open(code_path, "rb") as handle:
        return libc.compile_module(handle.read(), code_path)


def run_user_code(code_path: str, data: Any, payload_type: str | None) -> tuple[str, int]:
    """Runs the code as `__main__`; returns the report and the exit status."""
    module = _MODULE_TYPE("__main__")
    namespace = module.__dict__
    namespace.update(
        __file__=code_path,
        __builtins__=__builtins__,
        data=data,
        payload_type=payload_type,
    )
    sys.modules["__main__"] = module
    sys.argv = [code_path]
    try:
        exec(_compile(code_path), namespace)  # noqa: S102  # running user code is the point
    except SystemExit as exc:
        if exc.code not in (None, 0):
            return dumps(error_report(exc, code_path)), 1
    except BaseException as exc:  # every failure of the code is reported
        try:
            return dumps(error_report(exc, code_path)), 1
        except BaseException:  # e.g. MemoryError while formatting
            fallback = {"type": _type_name(exc), "message": "", "traceback": ""}
            chain = [{"type": _type_name(exc), "errno": None, "message": ""}]
            return dumps({"status": STATUS_ERROR, "error": fallback, "chain": chain}), 1
    return _result_report(namespace), 0


def _finish_interpreter() -> None:
    """What interpreter exit does for the code: non-daemon threads joined, atexit run."""
    threading = sys.modules.get("threading")
    if threading is not None:
        threading._shutdown()
    atexit = sys.modules.get("atexit")  # not imported: nothing registered
    if atexit is not None:
        atexit._run_exitfuncs()


def main(
    code_path: str,
    report_fd: int,
    limits: list[tuple[str, int, int, int]],
    data: Any,
    payload_type: str | None,
) -> int:
    """Runs the code once (in the forked child, see child.py); returns the exit status."""
    os.set_inheritable(report_fd, False)  # processes the code execs never get it
    # The runner blocks its stop signals (it reads them from a signalfd); the code must not.
    sigs.unblock_all()
    main_pid = os.getpid()
    try:
        apply_rlimits(limits)
    except (ValueError, OSError) as exc:
        report_setup_failure(report_fd, str(exc))
        return 1
    atexit = sys.modules.get("atexit")  # not imported: nothing registered
    if atexit is not None:
        atexit._clear()  # the runner's exit functions are not the code's
    import faulthandler  # noqa: PLC0415  # a crash (e.g. stack overflow) still shows where

    faulthandler.enable()
    # Line-buffered: prints are not lost when the code is killed on a limit or timeout.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.meta_path.insert(0, LoggingOnImport())
    os.write(report_fd, STARTED_MARK)
    report, status = run_user_code(code_path, data, payload_type)
    sys.stdout.flush()
    if os.getpid() != main_pid:
        # A process the code forked fell through to here: it must not report.
        if status:
            sys.stderr.write(loads(report)["error"]["traceback"])
        sys.stderr.flush()
        return status
    _write_report(report_fd, report)
    os.close(report_fd)
    try:
        _finish_interpreter()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return status
