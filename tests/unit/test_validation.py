"""What the schema cannot say: each error names the field and the spec fails as InvalidSpec."""

from typing import Any

import pytest
from execution_operator import validation
from execution_operator.validation import InvalidSpecError, parse_spec, validate_execution


def _errors(**spec: Any) -> list[str]:
    return validate_execution({"metadata": {"name": "x"}, "spec": spec})


def test_a_minimal_spec_is_valid_and_gets_the_defaults() -> None:
    spec = parse_spec({"spec": {"code": "result = 1"}})
    assert spec.timeout_seconds == 30
    assert spec.start_deadline_seconds == 300
    assert spec.rlimits.stack == "20Mi"
    assert spec.logs.max_batch_bytes == "10Mi"
    assert spec.input == {}


def test_spec_must_be_an_object() -> None:
    assert validate_execution({"metadata": {}}) == ["spec: required (an object)"]


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ({}, "spec.code: set exactly one of spec.code and spec.codeFrom (neither is set)"),
        (
            {"code": "x", "codeFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}},
            "spec.codeFrom: set exactly one of spec.code and spec.codeFrom (both are set)",
        ),
        (
            {
                "code": "x",
                "input": {"a": 1},
                "inputFrom": {"configMapKeyRef": {"name": "c", "key": "k"}},
            },
            "spec.inputFrom: set at most one of spec.input and spec.inputFrom (both are set)",
        ),
    ],
)
def test_code_and_input_come_from_one_place(spec: dict[str, Any], error: str) -> None:
    assert _errors(**spec) == [error]


def test_defaulted_empty_input_does_not_conflict_with_input_from() -> None:
    source = {"configMapKeyRef": {"name": "c", "key": "k"}}
    assert _errors(code="x", input={}, inputFrom=source) == []


def test_env_names_are_unique_and_not_reserved() -> None:
    errors = _errors(
        code="x",
        env=[
            {"name": "A", "value": "1"},
            {"name": "A", "value": "2"},
            {"name": "EXECUTION_LOGS_API_KEY", "value": "3"},
            {"name": "PATH", "value": "/"},
            {"name": "PYTHONPYCACHEPREFIX", "value": "/tmp/pyc"},
            {"name": "LD_AUDIT", "value": "/tmp/a.so"},
            {"name": "KUBERNETES_SERVICE_HOST", "value": "10.0.0.1"},
            {"name": "GCONV_PATH", "value": "/tmp"},
            {"name": "PYTHON_OK_IN_THE_MIDDLE_IS_NOT", "value": "x"},
            {"name": "MY_PYTHONPATH", "value": "fine"},
        ],
    )
    hint = (
        "names starting with PYTHON*, LD_*, EXECUTION_*, KUBERNETES_* steer the "
        "interpreter or belong to the runner; choose another name"
    )
    reserved = [
        (2, "EXECUTION_LOGS_API_KEY"),
        (3, "PATH"),
        (4, "PYTHONPYCACHEPREFIX"),
        (5, "LD_AUDIT"),
        (6, "KUBERNETES_SERVICE_HOST"),
        (7, "GCONV_PATH"),
        (8, "PYTHON_OK_IN_THE_MIDDLE_IS_NOT"),
    ]
    assert errors == [
        "spec.env[1].name: duplicate name 'A' (also spec.env[0])",
        *(
            f"spec.env[{i}].name: {name!r} is reserved for the runner; {hint}"
            for i, name in reserved
        ),
    ]


def test_env_values_come_from_exactly_one_place() -> None:
    ref = {"name": "s", "key": "k"}
    errors = _errors(
        code="x",
        env=[
            {"name": "A", "value": "1", "valueFrom": {"secretKeyRef": ref}},
            {"name": "B", "valueFrom": {"secretKeyRef": ref, "configMapKeyRef": ref}},
            {"name": "C", "valueFrom": {}},
        ],
    )
    assert errors == [
        "spec.env[0].valueFrom: set value or valueFrom, not both",
        "spec.env[1].valueFrom: set exactly one of secretKeyRef and configMapKeyRef",
        "spec.env[2].valueFrom: set exactly one of secretKeyRef and configMapKeyRef",
    ]


def test_env_from_needs_one_source_and_a_free_prefix() -> None:
    errors = _errors(
        code="x",
        envFrom=[{"prefix": "APP_"}, {"prefix": "EXECUTION_", "secretRef": {"name": "s"}}],
    )
    assert errors == [
        "spec.envFrom[0]: set exactly one of secretRef and configMapRef",
        "spec.envFrom[1].prefix: 'EXECUTION_' would form names reserved for the runner",
    ]


def test_schema_errors_name_the_field() -> None:
    errors = _errors(code="x", rlimits={"memory": "lots"}, timeoutSeconds=0, bogus=1)
    assert (
        "spec.rlimits.memory: 'lots' is not a quantity (examples: 20Mi, 1G, 500m, 128974848)"
        in (errors)
    )
    assert "spec.timeoutSeconds: Input should be greater than or equal to 1" in errors
    assert "spec.bogus: unknown field" in errors
    assert _errors(code="x", env=[{"name": "1BAD"}])[0].startswith("spec.env[0].name: ")


def test_rlimits_too_small_for_python_are_rejected() -> None:
    assert _errors(code="x", rlimits={"memory": "8Mi", "stack": "1Ki", "fileSize": -1}) == [
        "spec.rlimits.fileSize: must not be negative",
        "spec.rlimits.stack: at least 64Ki, or Python cannot start",
        "spec.rlimits.memory: at least 32Mi, or Python cannot start",
    ]


def test_rlimits_beyond_what_setrlimit_takes_are_rejected() -> None:
    errors = _errors(code="x", rlimits={"memory": "99999Ei", "processes": 2**63, "stack": "7Ei"})
    assert errors == [
        "spec.rlimits.memory: at most 9223372036854775807 (2^63 - 1), the largest rlimit",
        "spec.rlimits.processes: at most 9223372036854775807 (2^63 - 1), the largest rlimit",
    ]


def test_resources_are_known_and_requests_fit_the_limits() -> None:
    errors = _errors(
        code="x",
        resources={"requests": {"memory": "2Gi", "gpu": 1}, "limits": {"memory": "1Gi"}},
    )
    assert errors == [
        "spec.resources.requests.gpu: unknown resource "
        "(cpu, memory, ephemeral-storage, hugepages-*)",
        "spec.resources.requests.memory: 2Gi is more than the limit 1Gi",
    ]


def test_log_batch_size_is_bounded() -> None:
    assert _errors(code="x", logs={"maxBatchBytes": "1Gi"}) == [
        "spec.logs.maxBatchBytes: must be between 1Ki and 64Mi"
    ]


def test_pod_template_labels_are_valid_and_not_the_operators() -> None:
    errors = _errors(
        code="x",
        podTemplate={
            "labels": {"execution-operator.io/uid": "u", "team": "a b"},
            "annotations": {"bad key!": "v"},
            "nodeSelector": {"kubernetes.io/hostname": "node-1"},
        },
    )
    assert errors == [
        "spec.podTemplate.labels['execution-operator.io/uid']: the execution-operator.io/ prefix "
        "is reserved for the operator",
        "spec.podTemplate.labels['team']: value must be a label value (at most 63 characters)",
        "spec.podTemplate.annotations['bad key!']: name must be at most 63 letters, digits, "
        "'-', '_' or '.'",
    ]


def test_code_and_input_must_fit_one_configmap() -> None:
    errors = _errors(code="x" * 500_000, input={"blob": "y" * 600_000})
    assert len(errors) == 1
    assert errors[0].startswith("spec.input: code and input together are ")


def test_parse_spec_raises_with_every_error() -> None:
    with pytest.raises(InvalidSpecError) as caught:
        parse_spec({"spec": {"env": [{"name": "A"}, {"name": "A"}]}})
    assert len(caught.value.errors) == 2
    assert "spec.code" in str(caught.value)


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth - 1):
        value = [value]
    return value


def test_json_depth_counts_levels_without_recursing() -> None:
    assert validation.json_depth(1) == 1
    assert validation.json_depth({"a": [1, {"b": 2}]}) == 4
    assert validation.json_depth(_nested(100_000)) == 100_000


def test_input_nested_too_deep_is_invalid_before_parsing() -> None:
    limit = validation.MAX_INPUT_DEPTH
    ok = {"metadata": {"name": "x"}, "spec": {"code": "", "input": _nested(limit)}}
    assert not any("spec.input" in e for e in validation.validate_execution(ok))
    deep = {"metadata": {"name": "x"}, "spec": {"code": "", "input": _nested(5_000)}}
    (error,) = validation.validate_execution(deep)
    assert error.startswith(f"spec.input: nested 5000 levels deep, more than the {limit} allowed")


def test_fields_of_a_newer_crd_are_ignored_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    execution = {
        "metadata": {"name": "x"},
        "spec": {"code": "result = 1", "futureField": "x", "logs": {"futureLogsField": 3}},
    }
    assert validate_execution(execution) == []
    assert parse_spec(execution).code == "result = 1"
    assert "spec.futureField" in caplog.text
    assert "spec.logs.futureLogsField" in caplog.text
