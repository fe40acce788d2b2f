"""cluster-down leaves nothing behind; cluster-up comes back from it."""

from __future__ import annotations

import os
import pathlib
import subprocess

import pytest

from tests.support import kube

NETNS = "exop"
COMPONENTS = {
    "etcd",
    "containerd",
    "containerd-shim-runc-v2",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
}


def _harness_leftovers() -> list[str]:
    """Processes, namespaces and mounts of the harness that are still there."""
    found: list[str] = []
    pid_dir = kube.STATE_DIR / "pids"
    for pid_file in pid_dir.glob("*.pid") if pid_dir.exists() else []:
        if pathlib.Path(f"/proc/{pid_file.read_text().strip()}").exists():
            found.append(f"process {pid_file.stem}")
    for proc in pathlib.Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            program = os.path.basename(os.readlink(proc / "exe"))
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if program in COMPONENTS and str(kube.STATE_DIR) in cmdline:
            found.append(f"process {proc.name}: {cmdline[:80]}")
    for procs in pathlib.Path("/sys/fs/cgroup").glob("*/execution-operator/**/cgroup.procs"):
        found += [f"pod process {pid}" for pid in procs.read_text().split()]
    netns = subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True, check=True
    ).stdout
    if any(line.split()[0] == NETNS for line in netns.splitlines() if line.strip()):
        found.append(f"network namespace {NETNS}")
    mounts = pathlib.Path("/proc/self/mounts").read_text().splitlines()
    found += [
        f"mount {m.split()[1]}" for m in mounts if m.split()[1].startswith(f"{kube.STATE_DIR}/")
    ]
    return found


@pytest.mark.disruptive
@pytest.mark.slow
def test_cluster_down_leaves_nothing_and_up_comes_back() -> None:
    kube.ensure_cluster()
    subprocess.run(["make", "-s", "cluster-down"], cwd=kube.REPO, check=True)
    assert _harness_leftovers() == []

    subprocess.run(["make", "-s", "cluster-up"], cwd=kube.REPO, check=True)
    path = subprocess.run(
        ["make", "-s", "kubeconfig"], cwd=kube.REPO, check=True, capture_output=True, text=True
    ).stdout.strip()
    assert os.path.isabs(path)
    nodes = subprocess.run(
        ["kubectl", "--kubeconfig", path, "get", "nodes", "-o", "name"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert nodes.strip() == "node/local-node"
