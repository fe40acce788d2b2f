"""Runner overhead: hello through `python -m execution_runner` vs bare `python -c`,
and vs the seed executor's approach (a fresh `python -c WRAPPER` fed JSON on stdin).

Same interpreter, same machine, no confinement; best and median of N runs each,
the three kinds interleaved. `run(out_dir)` writes runner_overhead.json there
and returns the figures.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.integration.runner.harness import PYTHON, isolated_start

REPO = Path(__file__).resolve().parents[1]
HELLO = "print('hello')\nresult = {'greeting': 'hello'}\n"
# Medians of 30 moved by ±5 % between runs of the same code; 200 take about 12 s.
RUNS = 200
# The seed's executor: one fresh interpreter per run, the request as JSON on
# stdin, the code exec'd with `data` in scope, the result printed as JSON.
SEED_WRAPPER = (
    "import json, sys\n"
    "request = json.load(sys.stdin)\n"
    "scope = {'data': request.get('data'), 'payload_type': request.get('payload_type')}\n"
    "exec(compile(request['code'], '<code>', 'exec'), scope)\n"
    "print(json.dumps({'result': scope.get('result')}))\n"
)
SEED_REQUEST = json.dumps({"code": HELLO, "data": {}, "payload_type": None}).encode()


def _time(argv: list[str], env: dict[str, str], stdin: bytes | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(
        argv,
        env=env,
        check=True,
        input=stdin,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return (time.perf_counter() - started) * 1000


def _summary(samples: list[float]) -> dict[str, float]:
    return {"bestMs": round(min(samples), 1), "medianMs": round(statistics.median(samples), 1)}


def run(out_dir: str | Path, runs: int = RUNS) -> dict[str, Any]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        payload = Path(work)
        (payload / "code.py").write_text(HELLO)
        (payload / "input.json").write_text('{"data": {}, "payload_type": null}')
        (payload / "runner.json").write_text("{}")
        base_env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": work, "TMPDIR": work}
        runner_env = {
            **base_env,
            "EXECUTION_PAYLOAD_DIR": work,
            "EXECUTION_TERMINATION_LOG": str(payload / "termination-log"),
        }
        # As in the image: bytecode compiled ahead, never written at run time.
        package = REPO / "runner_image" / "execution_runner"
        subprocess.run([PYTHON, "-m", "compileall", "-q", str(package)], check=True)
        runner_argv = isolated_start()
        _time(runner_argv, runner_env)  # warm the page cache and .pyc files
        commands = {
            "bare": ([PYTHON, "-c", HELLO], base_env, None),
            "seed": ([PYTHON, "-c", SEED_WRAPPER], base_env, SEED_REQUEST),
            "runner": (runner_argv, runner_env, None),
        }
        kinds = list(commands)
        samples: dict[str, list[float]] = {kind: [] for kind in kinds}
        execution_ms: list[float] = []
        for index in range(runs):
            # Each kind goes first, second and third equally often: no place in the order
            # (just after another interpreter's exit, say) favours one of them.
            turn = index % len(kinds)
            for kind in kinds[turn:] + kinds[:turn]:
                samples[kind].append(_time(*commands[kind]))
                if kind == "runner":
                    termination = json.loads((payload / "termination-log").read_text())
                    execution_ms.append(float(termination["metrics"]["executionMs"]))
    bare, seed, runner = samples["bare"], samples["seed"], samples["runner"]
    figures = {
        "python": PYTHON,
        "runs": runs,
        "bare": _summary(bare),
        "runner": _summary(runner),
        "seed": _summary(seed),
        "runnerVsSeedRatio": round(statistics.median(runner) / statistics.median(seed), 3),
        "overheadMs": {
            "best": round(min(runner) - min(bare), 1),
            "median": round(statistics.median(runner) - statistics.median(bare), 1),
        },
        # Child start to child exit as the runner measured it (includes the bootstrap).
        "childExecutionMs": _summary(execution_ms),
    }
    (out / "runner_overhead.json").write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "bench-results"), indent=2))
