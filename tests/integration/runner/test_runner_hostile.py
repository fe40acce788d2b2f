"""Hostile code against the limits; every run is confined (non-root uid, outer nproc limit)."""

from __future__ import annotations

import textwrap

from execution_runner.protocol import Reason

from tests.integration.runner.harness import Payload, Workdir, alive, run_payload

MiB = 1024 * 1024


def code(text: str) -> str:
    return textwrap.dedent(text).lstrip()


def test_all_rlimits_are_applied_in_the_child(workdir: Workdir) -> None:
    limits = {
        "stack": 8 * MiB,
        "memory": 1024 * MiB,
        "cpuSeconds": 5,
        "openFiles": 64,
        "processes": 100,
        "fileSize": 4 * MiB,
    }
    run = run_payload(
        workdir,
        Payload(
            code(
                """
                import resource as r
                names = ["STACK", "AS", "CPU", "NOFILE", "NPROC", "FSIZE", "CORE"]
                result = {n: r.getrlimit(getattr(r, "RLIMIT_" + n)) for n in names}
                """
            ),
            config={"rlimits": limits},
        ),
    )
    assert run.result == {
        "STACK": [8 * MiB, 8 * MiB],
        "AS": [1024 * MiB, 1024 * MiB],
        "CPU": [5, 6],  # soft below hard: SIGXCPU first, SIGKILL only if ignored
        "NOFILE": [64, 64],
        "NPROC": [100, 100],
        "FSIZE": [4 * MiB, 4 * MiB],
        "CORE": [0, 0],
    }


def test_fork_bomb_is_contained_by_processes(workdir: Workdir) -> None:
    run = run_payload(
        workdir,
        Payload("import os\nwhile True:\n    os.fork()\n", config={"rlimits": {"processes": 40}}),
    )
    assert (run.termination["code"], run.reason) == (400, Reason.PROCESS_LIMIT_EXCEEDED)
    assert "rlimits.processes (40)" in run.termination["message"]
    assert run.seconds < 15


def test_threads_count_against_processes(workdir: Workdir) -> None:
    run = run_payload(
        workdir,
        Payload(
            code(
                """
                import threading, time
                for _ in range(100):
                    threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
                """
            ),
            config={"rlimits": {"processes": 20}},
        ),
    )
    assert run.reason == Reason.PROCESS_LIMIT_EXCEEDED


def test_two_gib_allocation_is_stopped_by_memory(workdir: Workdir) -> None:
    run = run_payload(
        workdir,
        Payload("block = bytearray(2 * 1024 ** 3)\n", config={"rlimits": {"memory": 512 * MiB}}),
    )
    assert (run.termination["code"], run.reason) == (400, Reason.MEMORY_LIMIT_EXCEEDED)
    assert "512 MiB" in run.termination["message"]
    assert run.termination["error"]["type"] == "MemoryError"
    assert run.termination["metrics"]["peakRssBytes"] < 512 * MiB


def test_deep_c_recursion_is_contained_by_stack(workdir: Workdir) -> None:
    # Recursion through a C call (map) uses the C stack; the raised limit lets it overflow.
    deep = code(
        """
        import sys
        sys.setrecursionlimit(10 ** 7)
        def down(n):
            return next(map(down, [n + 1]))
        down(0)
        """
    )
    run = run_payload(workdir, Payload(deep, config={"rlimits": {"stack": 8 * MiB}}))
    assert (run.termination["code"], run.reason) == (400, Reason.STACK_LIMIT_EXCEEDED)
    assert "8 MiB" in run.termination["message"]
    # faulthandler shows where it crashed.
    assert "Segmentation fault" in run.stderr


def test_busy_loop_is_stopped_by_cpu_seconds(workdir: Workdir) -> None:
    run = run_payload(
        workdir,
        Payload(
            "while True:\n    pass\n", config={"rlimits": {"cpuSeconds": 1}, "timeoutSeconds": 10}
        ),
    )
    assert (run.termination["code"], run.reason) == (400, Reason.CPU_LIMIT_EXCEEDED)
    metrics = run.termination["metrics"]
    # RLIMIT_CPU counts user and system time together (under load system time grows).
    assert metrics["cpuUserSeconds"] + metrics["cpuSystemSeconds"] >= 0.9
    assert run.seconds < 8


def test_big_file_is_stopped_by_file_size(workdir: Workdir) -> None:
    run = run_payload(
        workdir,
        Payload(
            "with open('big.bin', 'wb') as f:\n    f.write(b'0' * (4 * 1024 * 1024))\n",
            config={"rlimits": {"fileSize": MiB}},
        ),
    )
    assert (run.termination["code"], run.reason) == (400, Reason.FILE_SIZE_LIMIT_EXCEEDED)
    assert "1 MiB" in run.termination["message"]


GRANDCHILDREN = code(
    """
    import os, signal, subprocess, sys, time
    plain = subprocess.Popen(["sleep", "60"])
    # A daemon: double fork, new session, ignores SIGTERM.
    read_end, write_end = os.pipe()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            os.write(write_end, str(os.getpid()).encode())
            os.close(write_end)
            while True:
                time.sleep(1)
        os._exit(0)
    daemon = int(os.read(read_end, 32))
    print("pids", plain.pid, daemon, flush=True)
    """
)


def _pids(stdout_lines: list[str]) -> list[int]:
    line = next(line for line in stdout_lines if line.startswith("pids"))
    return [int(pid) for pid in line.split()[1:]]


def test_grandchildren_do_not_survive_a_timeout(workdir: Workdir) -> None:
    run = run_payload(
        workdir,
        Payload(
            GRANDCHILDREN + "time.sleep(60)\n",
            config={"timeoutSeconds": 1, "killGraceSeconds": 0.5},
        ),
    )
    assert run.reason == Reason.TIMEOUT
    pids = _pids(run.log_lines)
    assert len(pids) == 2
    assert not any(alive(pid) for pid in pids)


def test_grandchildren_do_not_survive_a_completed_run(workdir: Workdir) -> None:
    run = run_payload(workdir, Payload(GRANDCHILDREN + "result = 'done'\n"))
    assert (run.reason, run.result) == (Reason.COMPLETED, "done")
    assert not any(alive(pid) for pid in _pids(run.log_lines))
    assert run.seconds < 5
