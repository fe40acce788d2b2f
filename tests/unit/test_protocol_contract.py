"""The protocol package is the one source of truth of the operator/runner wire contract.

Its key classes and TypedDicts agree, and no contract key is spelled as a string
literal anywhere else in the runner (or, once enabled, the operator) package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from execution_runner import protocol

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "runner_image" / "execution_runner"
OPERATOR = REPO / "operator" / "execution_operator"
PROTOCOL = RUNNER / "protocol"

# Each key class names exactly the keys of its document type.
KEYS_AND_DOCS = [
    (protocol.RunnerConfigKey, protocol.RunnerConfigDoc),
    (protocol.RlimitKey, protocol.RlimitsDoc),
    (protocol.EnvFromKey, protocol.EnvFromDoc),
    (protocol.LogsKey, protocol.LogsDoc),
    (protocol.ExecutionKey, protocol.ExecutionDoc),
    (protocol.TerminationKey, protocol.TerminationMessage),
    (protocol.MetricKey, protocol.MetricsDoc),
    (protocol.ErrorKey, protocol.ErrorDoc),
    (protocol.LogCounterKey, protocol.LogCounters),
]
# Keys that are also everyday words of other formats (log records, Kubernetes objects,
# error documents): only the distinctive contract keys are policed.
COMMON_WORDS = frozenset(
    {
        "attempt", "attributes", "batches", "bytes", "code", "enabled", "endpoint", "env",
        "error", "execution", "logs", "memory", "message", "metrics", "name", "namespace",
        "prefix", "processes", "reason", "records", "result", "secret", "stack", "threads",
        "traceback", "type", "uid", "dropped",
    }
)  # fmt: skip
# Kubernetes' own fields of the same spelling (containerState.*.startedAt, container.envFrom).
KUBERNETES_FIELDS = frozenset({"startedAt", "envFrom"})


def _values(key_class: type) -> set[str]:
    return {v for k, v in vars(key_class).items() if not k.startswith("_") and isinstance(v, str)}


@pytest.mark.parametrize(("keys", "doc"), KEYS_AND_DOCS, ids=lambda x: x.__name__)
def test_key_classes_match_their_documents(keys: type, doc: type) -> None:
    assert _values(keys) == set(doc.__annotations__)


def contract_keys() -> frozenset[str]:
    keys: set[str] = set()
    for key_class, _ in KEYS_AND_DOCS:
        keys |= _values(key_class)
    return frozenset(keys - COMMON_WORDS)


def literals(
    package: Path, base: Path = REPO, exempt: frozenset[str] = frozenset()
) -> Iterator[str]:
    """`file:line: 'key'` for each contract key spelled as a literal outside protocol/."""
    keys = contract_keys() - exempt
    for path in sorted(package.rglob("*.py")):
        if PROTOCOL in path.parents:
            continue
        tree = ast.parse(path.read_text(), str(path))
        # Docstrings may mention keys; __slots__ name Python attributes, not keys.
        skipped = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets
            ):
                skipped |= {id(c) for c in ast.walk(node.value)}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value in keys
                and id(node) not in skipped
            ):
                yield f"{path.relative_to(base)}:{node.lineno}: {node.value!r}"


def test_the_policed_keys_are_the_distinctive_ones() -> None:
    keys = contract_keys()
    assert {"timeoutSeconds", "resultSha256", "failedBatches", "executionMs", "fileSize"} <= keys
    assert "message" not in keys


def test_no_contract_key_literal_in_the_runner() -> None:
    assert list(literals(RUNNER)) == []


def test_no_contract_key_literal_in_the_operator() -> None:
    assert list(literals(OPERATOR, exempt=KUBERNETES_FIELDS)) == []


def test_the_check_finds_a_literal_but_not_a_docstring(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text('"""Doc mentioning resultSha256."""\nKEY = "resultSha256"\n')
    assert list(literals(tmp_path, tmp_path)) == ["m.py:2: 'resultSha256'"]
