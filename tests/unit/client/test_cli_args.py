"""The CLI's argument parsing, without a cluster."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from execution_operator.client._cli_args import build_parser, exit_status, parse_env, parse_input


def test_run_arguments() -> None:
    args = build_parser().parse_args(
        [
            "-n",
            "team",
            "run",
            "s.py",
            "--input",
            "{}",
            "--env",
            "A=1",
            "--env",
            "B=2",
            "--env-from-secret",
            "creds",
            "--timeout",
            "5",
            "--no-wait",
        ]
    )
    assert (args.namespace, args.command, args.script) == ("team", "run", "s.py")
    assert (args.env, args.env_from_secret, args.timeout, args.wait) == (
        ["A=1", "B=2"],
        ["creds"],
        5.0,
        False,
    )
    assert build_parser().parse_args(["run", "s.py"]).wait is True


def test_input_and_input_file_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "s.py", "--input", "{}", "--input-file", "f.json"])
    assert "not allowed with" in capsys.readouterr().err


def test_parse_env() -> None:
    assert parse_env(["A=1", "B=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_env(["A"])
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_env(["=1"])


def test_parse_input(tmp_path: Path) -> None:
    assert parse_input(None, None) == {}
    assert parse_input('{"a": [1]}', None) == {"a": [1]}
    (tmp_path / "in.json").write_text("[1, 2]")
    assert parse_input(None, tmp_path / "in.json") == [1, 2]
    with pytest.raises(ValueError, match="--input: not valid JSON"):
        parse_input("{", None)


def test_exit_status() -> None:
    assert exit_status({"phase": "Succeeded", "code": 200}) == 0
    assert exit_status({"phase": "Failed", "code": 400}) == 1
    assert exit_status({"phase": "Failed", "code": 500}) == 2
    assert exit_status({"phase": "Cancelled"}) == 2


def test_the_cli_parses_before_loading_kubernetes() -> None:
    probe = (
        "import sys, execution_operator.client.cli, execution_operator.client\n"
        "print(sorted(m for m in ('kubernetes', 'kopf', 'rich') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
