"""Where the payload travels: in the pod's own annotations when small, else in a ConfigMap."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from execution_operator import naming
from execution_operator.settings import Settings

Apply = Callable[..., dict[str, Any]]
Wait = Callable[..., dict[str, Any]]
PodsOf = Callable[[str], list[Any]]

TEXT = "naïve café ✓ 日本"


def _payload_annotations(pod: Any) -> set[str]:
    keys = (pod.metadata.annotations or {}).keys()
    return {key for key in keys if key.startswith(naming.PAYLOAD_ANNOTATION_PREFIX)}


def test_a_small_payload_reaches_the_code_from_the_pods_annotations_unchanged(
    apply_execution: Apply,
    wait_phase: Wait,
    pods_of: PodsOf,
    configmaps_of: PodsOf,
) -> None:
    code = f"# {TEXT}\nresult = {{'text': {TEXT!r}, 'data': data, 'type': payload_type}}\n"
    created = apply_execution("small", {"code": code, "input": {"text": TEXT}, "payloadType": TEXT})
    status = wait_phase("small")
    assert status["result"] == {"text": TEXT, "data": {"text": TEXT}, "type": TEXT}, status
    uid = created["metadata"]["uid"]
    (pod,) = pods_of(uid)
    assert len(_payload_annotations(pod)) == 3
    assert configmaps_of(uid) == []


def test_a_payload_too_large_for_the_annotations_runs_from_a_configmap(
    apply_execution: Apply,
    wait_phase: Wait,
    pods_of: PodsOf,
    configmaps_of: PodsOf,
) -> None:
    padding = "#" * Settings().inline_payload_max_bytes
    code = f"{padding}\nresult = {{'text': {TEXT!r}, 'data': data}}\n"
    created = apply_execution("large", {"code": code, "input": [TEXT]})
    status = wait_phase("large")
    assert status["result"] == {"text": TEXT, "data": [TEXT]}, status
    uid = created["metadata"]["uid"]
    (pod,) = pods_of(uid)
    assert _payload_annotations(pod) == set()
    (payload,) = configmaps_of(uid)
    assert (payload.metadata.name, payload.immutable) == (pod.metadata.name, True)
    assert payload.data["code.py"] == code
