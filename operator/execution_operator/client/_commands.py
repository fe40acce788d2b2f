"""The CLI's commands (loaded after the arguments parsed: they need the Kubernetes library)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from execution_runner import protocol
from kubernetes.client.exceptions import ApiException
from rich.console import Console
from urllib3.exceptions import HTTPError

from . import _results
from ._cli_args import EXIT_OK, EXIT_SYSTEM_ERROR, exit_status, parse_env, parse_input
from ._progress import Progress
from .errors import ClientError
from .executor import ClusterExecutor
from .handle import ExecutionHandle


def run(args: argparse.Namespace) -> int:
    """Carry out the parsed command; its exit status."""
    err = Console(stderr=True, highlight=False)
    try:
        executor = ClusterExecutor(
            namespace=args.namespace, kubeconfig=args.kubeconfig, context=args.context
        )
        return int(COMMANDS[args.command](executor, args, err))
    except (ValueError, OSError, ClientError) as exc:
        err.print(f"error: {exc}", markup=False)
    except ApiException as exc:
        err.print(f"error: the API server answered {exc.status} {exc.reason}", markup=False)
    except HTTPError as exc:
        err.print(f"error: cannot reach the API server: {exc}", markup=False)
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
    return EXIT_SYSTEM_ERROR


def _run(executor: ClusterExecutor, args: argparse.Namespace, err: Console) -> int:
    script = sys.stdin.read() if args.script == "-" else None
    handle = executor.submit(
        code=script,
        file_path=None if script is not None else args.script,
        data=parse_input(args.input, args.input_file),
        env_vars=parse_env(args.env),
        env_from_secrets=args.env_from_secret,
        timeout_secs=args.timeout,
        payload_type=args.payload_type,
        name=args.name,
    )
    if not args.wait:
        print(handle.name)
        return EXIT_OK
    interactive = sys.stdout.isatty() and err.is_terminal
    status = Progress(handle, err).wait() if interactive else handle.wait_status()
    shaped = _results.shape(handle.name, status)
    if status.get("phase") == "Succeeded":
        print(json.dumps(shaped, indent=2 if interactive else None, ensure_ascii=False))
    else:
        err.print(shaped["error"], markup=False, highlight=False)
    return exit_status(status)


def _get(executor: ClusterExecutor, args: argparse.Namespace, err: Console) -> int:
    body = executor.handle(args.name).body()
    if args.output == "json":
        print(json.dumps(body, indent=2, ensure_ascii=False))
        return EXIT_OK
    status = body.get("status") or {}
    metrics = status.get("metrics") or {}
    rows = [
        ("Name", body["metadata"]["name"]),
        ("Namespace", body["metadata"]["namespace"]),
        ("Phase", status.get("phase")),
        ("Reason", status.get("reason")),
        ("Code", status.get("code")),
        ("Message", status.get("message")),
        ("Pod", status.get("podName")),
        ("Attempts", status.get("attempts")),
        ("Started", status.get("startTime")),
        ("Completed", status.get("completionTime")),
        ("Startup ms", metrics.get("startupMs")),
        ("Execution ms", metrics.get(protocol.MetricKey.EXECUTION_MS)),
        ("Peak RSS bytes", metrics.get(protocol.MetricKey.PEAK_RSS_BYTES)),
    ]
    for key, value in rows:
        if value is not None:
            print(f"{key + ':':<16}{value}")
    if status.get("phase") in _results.TERMINAL_PHASES:
        print(f"{'Result:':<16}{json.dumps(_results.shape(args.name, status))}")
    return EXIT_OK


def _list(executor: ClusterExecutor, args: argparse.Namespace, err: Console) -> int:
    rows = [("NAME", "PHASE", "REASON", "CODE", "AGE")]
    for body in sorted(executor.list(), key=lambda b: b["metadata"]["creationTimestamp"]):
        status = body.get("status") or {}
        rows.append(
            (
                body["metadata"]["name"],
                status.get("phase") or "",
                status.get("reason") or "",
                str(status.get("code") or ""),
                _age(body["metadata"]["creationTimestamp"]),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return EXIT_OK


def _logs(executor: ClusterExecutor, args: argparse.Namespace, err: Console) -> int:
    handle: ExecutionHandle = executor.handle(args.name)
    if not args.follow:
        sys.stdout.write(handle.logs())
        return EXIT_OK
    for line in handle.follow_logs():
        print(line, flush=True)
    return EXIT_OK


def _cancel(executor: ClusterExecutor, args: argparse.Namespace, err: Console) -> int:
    stopped = True
    for name in args.names:
        ended = executor.kill(name, timeout=args.timeout)
        phase = executor.handle(name).status.get("phase")
        print(f"{name}: {phase}" if ended else f"{name}: still {phase} after {args.timeout}s")
        stopped = stopped and ended
    return EXIT_OK if stopped else EXIT_SYSTEM_ERROR


def _delete(executor: ClusterExecutor, args: argparse.Namespace, err: Console) -> int:
    missing = [name for name in args.names if not executor.delete(name)]
    for name in args.names:
        print(f"{name}: {'not found' if name in missing else 'deleted'}")
    return EXIT_SYSTEM_ERROR if missing else EXIT_OK


def _age(timestamp: str) -> str:
    seconds = int((datetime.now(UTC) - datetime.fromisoformat(timestamp)).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


COMMANDS: dict[str, Any] = {
    "run": _run,
    "get": _get,
    "list": _list,
    "logs": _logs,
    "cancel": _cancel,
    "delete": _delete,
}
