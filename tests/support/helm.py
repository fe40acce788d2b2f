"""The pinned helm binary (fetched once into the cache) and chart rendering."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "execution-operator"


@functools.cache
def helm_binary() -> str:
    """The path of the helm `make helm` obtains (local-cluster/helm.sh)."""
    return subprocess.run(
        ["bash", str(REPO / "local-cluster" / "helm.sh")],
        env={"PYTHON": sys.executable, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def helm(*args: str, stdin: str = "", check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [helm_binary(), *args], input=stdin, check=check, capture_output=True, text=True
    )


def render(
    values: dict[str, Any] | None = None, namespace: str = "ops", release: str = "eo"
) -> list[dict[str, Any]]:
    """`helm template` of the chart with `values`: the objects it would create."""
    done = helm(*_template_args(namespace, release), stdin=json.dumps(values or {}))
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def render_error(values: dict[str, Any], namespace: str = "ops") -> str:
    """The error of a render that must fail (values the schema or the chart refuses)."""
    done = helm(*_template_args(namespace, "eo"), stdin=json.dumps(values), check=False)
    assert done.returncode != 0, f"rendered although it should not: {values}"
    return done.stderr


def _template_args(namespace: str, release: str) -> list[str]:
    # Values come as JSON (which is YAML) on stdin: types stay as given, unlike --set.
    return ["template", release, str(CHART), "--namespace", namespace, "--values", "-"]
