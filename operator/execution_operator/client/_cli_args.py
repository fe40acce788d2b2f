"""The CLI's arguments (pure: parsing and checking, no cluster)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

# Exit statuses: the in-process executor's codes, mapped for shells.
EXIT_OK: Final = 0
EXIT_USER_ERROR: Final = 1  # code 400
EXIT_SYSTEM_ERROR: Final = 2  # code 500, and failures of the client itself


def build_parser(prog: str = "execution") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Run Python code as Executions and inspect them."
    )
    parser.add_argument("-n", "--namespace", help="namespace (default: the context's)")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube)")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run a script; print its JSON result")
    run.add_argument("script", help="Python file to run ('-' reads standard input)")
    given = run.add_mutually_exclusive_group()
    given.add_argument("--input", help="the input as JSON text (the code's `data`)")
    given.add_argument("--input-file", type=Path, help="a file holding the input JSON")
    run.add_argument("--env", action="append", default=[], metavar="K=V", help="env variable")
    run.add_argument(
        "--env-from-secret",
        action="append",
        default=[],
        metavar="NAME",
        help="all keys of a Secret",
    )
    run.add_argument("--timeout", type=float, default=30, help="seconds (default 30)")
    run.add_argument("--payload-type", help="given to the code as `payload_type`")
    run.add_argument("--name", help="Execution name (default: generated)")
    run.add_argument(
        "--wait",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="wait for the result (default) or print the name and return",
    )

    get = commands.add_parser("get", help="show one Execution")
    get.add_argument("name")
    get.add_argument("-o", "--output", choices=("summary", "json"), default="summary")
    commands.add_parser("list", help="list Executions")
    logs = commands.add_parser("logs", help="print the output of an Execution's code")
    logs.add_argument("name")
    logs.add_argument("-f", "--follow", action="store_true", help="follow until it ends")
    cancel = commands.add_parser("cancel", help="stop running Executions")
    cancel.add_argument("names", nargs="+", metavar="NAME")
    cancel.add_argument("--timeout", type=float, default=30, help="seconds to wait for Cancelled")
    delete = commands.add_parser("delete", help="delete Executions (pods and Secrets go too)")
    delete.add_argument("names", nargs="+", metavar="NAME")
    return parser


def parse_env(pairs: Sequence[str]) -> dict[str, str]:
    """`K=V` pairs; the value may contain '='."""
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--env {pair!r}: expected NAME=VALUE")
        env[key] = value
    return env


def parse_input(text: str | None, path: Path | None) -> Any:
    """The input JSON from --input or --input-file; {} when neither is given."""
    source, where = (path.read_text(encoding="utf-8"), str(path)) if path else (text, "--input")
    if source is None:
        return {}
    try:
        return json.loads(source)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: not valid JSON ({exc})") from None


def exit_status(status: Mapping[str, Any]) -> int:
    """0 when it succeeded, 1 for a user error (400), 2 for anything else (500)."""
    if status.get("phase") == "Succeeded":
        return EXIT_OK
    return EXIT_USER_ERROR if status.get("code") == 400 else EXIT_SYSTEM_ERROR
