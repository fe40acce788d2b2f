"""The `execution` CLI and `kubectl execution` end to end, as real processes."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client

from tests.support import kube
from tests.support.operator_process import OperatorProcess

BIN = Path(sys.executable).parent
TICKER = "import time\nfor i in range(4):\n    print(f'tick {i}', flush=True)\n    time.sleep(1)\n"


def cli(namespace: str, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "execution"), "-n", namespace, *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "KUBECONFIG": kube.kubeconfig_path()},
        **kwargs,
    )


def script(tmp_path: Path, text: str, name: str = "script.py") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_run_with_input_file_prints_the_result(
    operator: OperatorProcess, namespace: str, tmp_path: Path
) -> None:
    code = script(tmp_path, "result = {'sum': sum(data['xs']), 'type': payload_type}\n")
    (tmp_path / "input.json").write_text(json.dumps({"xs": [1, 2, 3]}))
    done = cli(
        namespace,
        "run",
        code,
        "--input-file",
        str(tmp_path / "input.json"),
        "--payload-type",
        "numbers",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"sum": 6, "type": "numbers"}


def test_env_and_env_from_secret(
    operator: OperatorProcess, namespace: str, core: client.CoreV1Api
) -> None:
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(metadata=client.V1ObjectMeta(name="creds"), string_data={"TOKEN": "t0k"}),
    )
    code = "import os\nresult = [os.environ['A'], os.environ['TOKEN']]\n"
    done = cli(  # the script from standard input
        namespace, "run", "-", "--env", "A=x=y", "--env-from-secret", "creds", input=code
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["x=y", "t0k"]


def test_failing_script_exits_1_and_a_timeout_exits_2(
    operator: OperatorProcess, namespace: str, tmp_path: Path
) -> None:
    failing = cli(namespace, "run", script(tmp_path, "raise ValueError('bad input')\n"))
    assert failing.returncode == 1
    assert "ValueError: bad input" in failing.stderr
    assert failing.stdout == ""
    slow = cli(namespace, "run", script(tmp_path, "while True: pass\n"), "--timeout", "2")
    assert slow.returncode == 2
    assert "Timeout" in slow.stderr


def test_logs_follow_a_running_execution(
    operator: OperatorProcess,
    namespace: str,
    tmp_path: Path,
    get_execution: Callable[[str], dict[str, Any]],
) -> None:
    started = cli(namespace, "run", script(tmp_path, TICKER), "--no-wait")
    assert started.returncode == 0, started.stderr
    name = started.stdout.strip()
    follower = subprocess.Popen(
        [str(BIN / "execution"), "-n", namespace, "logs", "-f", name],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "KUBECONFIG": kube.kubeconfig_path()},
    )
    assert follower.stdout is not None
    first = follower.stdout.readline()
    # The first line arrived while the code was still running: it is followed, not dumped.
    assert first.strip() == "tick 0"
    assert get_execution(name)["status"]["phase"] == "Running"
    rest = follower.stdout.read()
    assert follower.wait(timeout=60) == 0
    assert [line for line in rest.splitlines() if line.startswith("tick")] == [
        "tick 1",
        "tick 2",
        "tick 3",
    ]
    assert get_execution(name)["status"]["phase"] == "Succeeded"
    assert "execution_result" not in rest  # the runner's result line is not the code's output
    assert cli(namespace, "logs", name).stdout.splitlines() == [f"tick {i}" for i in range(4)]


def test_get_list_cancel_delete(operator: OperatorProcess, namespace: str, tmp_path: Path) -> None:
    sleeper = script(tmp_path, "import time\ntime.sleep(600)\n")
    name = cli(namespace, "run", sleeper, "--no-wait", "--timeout", "300", "--name", "nap").stdout
    assert name.strip() == "nap"
    assert "nap" in cli(namespace, "list").stdout
    cancelled = cli(namespace, "cancel", "nap", "--timeout", "60")
    assert (cancelled.returncode, cancelled.stdout.strip()) == (0, "nap: Cancelled")
    shown = cli(namespace, "get", "nap")
    assert "Phase:          Cancelled" in shown.stdout
    assert json.loads(cli(namespace, "get", "nap", "-o", "json").stdout)["spec"]["cancel"] is True
    assert cli(namespace, "delete", "nap").returncode == 0
    missing = cli(namespace, "get", "nap")
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr


def test_kubectl_plugin(operator: OperatorProcess, namespace: str, tmp_path: Path) -> None:
    code = script(tmp_path, "result = data['n'] + 1\n")
    done = subprocess.run(
        ["kubectl", "execution", "-n", namespace, "run", code, "--input", '{"n": 41}'],
        check=False,
        capture_output=True,
        text=True,
        timeout=180,
        env={
            **os.environ,
            "KUBECONFIG": kube.kubeconfig_path(),
            "PATH": f"{BIN}:{os.environ['PATH']}",
        },
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == 42


def test_progress_on_a_terminal(operator: OperatorProcess, namespace: str, tmp_path: Path) -> None:
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [str(BIN / "execution"), "-n", namespace, "run", script(tmp_path, TICKER)],
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
        env={**os.environ, "KUBECONFIG": kube.kubeconfig_path(), "COLUMNS": "120"},
    )
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        output += chunk
    os.close(primary)
    assert process.wait(timeout=60) == 0
    text = output.decode(errors="replace")
    assert "tick 3" in text  # the code's output, streamed
    assert "Succeeded" in text  # the final status line
    assert "Running" in text  # the live phase while it ran
