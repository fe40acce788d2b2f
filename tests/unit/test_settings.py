"""Operator settings: one prefix, documented defaults, errors that name the variable."""

import dataclasses
import socket

import pytest
from execution_operator import settings as settings_module
from execution_operator.settings import (
    Settings,
    SettingsError,
    auto_priority,
    load_settings,
    settings_table,
)


def test_defaults_without_any_variable() -> None:
    loaded = load_settings({"HOME": "/root"})
    assert loaded == Settings()
    assert loaded.runner_image.startswith("execution-operator/runner:")
    assert loaded.max_result_bytes == 256 * 1024
    assert loaded.namespaces == ()
    assert loaded.peering is False
    assert loaded.default_resources == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"memory": "1Gi"},
    }


def test_every_field_is_read_from_its_variable() -> None:
    loaded = load_settings(
        {
            "EXECUTION_OPERATOR_RUNNER_IMAGE": "localhost/execution-runner:dev",
            "EXECUTION_OPERATOR_MAX_RESULT_BYTES": "512Ki",
            "EXECUTION_OPERATOR_NAMESPACES": "a, b,,",
            "EXECUTION_OPERATOR_PEERING": "true",
            "EXECUTION_OPERATOR_METRICS_PORT": "0",
            "EXECUTION_OPERATOR_DEFAULT_MEMORY_LIMIT": "",
        }
    )
    assert loaded.runner_image == "localhost/execution-runner:dev"
    assert loaded.max_result_bytes == 512 * 1024
    assert loaded.namespaces == ("a", "b")
    assert loaded.peering is True
    assert loaded.metrics_port == 0
    assert "limits" not in loaded.default_resources


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("EXECUTION_OPERATOR_METRICS_PORT", "http", "expected a whole number"),
        ("EXECUTION_OPERATOR_LIVENESS_PORT", "70000", "a port is at most 65535"),
        ("EXECUTION_OPERATOR_PEERING", "maybe", "expected true or false"),
        ("EXECUTION_OPERATOR_MAX_RESULT_BYTES", "256KB", "is not a quantity"),
        ("EXECUTION_OPERATOR_IMAGE_PULL_POLICY", "Sometimes", "expected Always"),
        ("EXECUTION_OPERATOR_RUNNER_IMAGE", " ", "must not be empty"),
        ("EXECUTION_OPERATOR_TERMINATION_GRACE_SECONDS", "-1", "must not be negative"),
    ],
)
def test_bad_values_name_the_variable(variable: str, value: str, complaint: str) -> None:
    with pytest.raises(SettingsError, match=variable) as caught:
        load_settings({variable: value})
    assert complaint in str(caught.value)


def test_unknown_variables_with_the_prefix_are_typos() -> None:
    with pytest.raises(SettingsError, match="EXECUTION_OPERATOR_RUNER_IMAGE"):
        load_settings({"EXECUTION_OPERATOR_RUNER_IMAGE": "x"})


def test_the_result_read_bound_leaves_room_for_the_largest_result() -> None:
    with pytest.raises(SettingsError, match="RESULT_READ_MAX_BYTES"):
        load_settings({"EXECUTION_OPERATOR_MAX_RESULT_BYTES": "1Mi"})


@pytest.mark.parametrize("value", ["129Ki", "-1"])
def test_an_inline_payload_must_leave_the_user_room_in_the_annotations(value: str) -> None:
    with pytest.raises(SettingsError, match="INLINE_PAYLOAD_MAX_BYTES") as caught:
        load_settings({"EXECUTION_OPERATOR_INLINE_PAYLOAD_MAX_BYTES": value})
    assert "from 0 to 128Ki" in str(caught.value)
    assert load_settings({"EXECUTION_OPERATOR_INLINE_PAYLOAD_MAX_BYTES": "128Ki"})


def test_every_field_has_a_parser_a_doc_and_a_row_in_the_table() -> None:
    table = settings_table()
    for field in dataclasses.fields(Settings):
        assert field.name in settings_module._PARSERS
        assert field.metadata["doc"]
        assert f"`EXECUTION_OPERATOR_{field.name.upper()}`" in table


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().peering = True  # type: ignore[misc]


def test_auto_peering_priority_is_distinct_per_pod_and_stable() -> None:
    pods = [f"execution-operator-7d9c-{suffix}" for suffix in ("abcde", "fghij", "klmno")]
    priorities = [auto_priority(pod) for pod in pods]
    assert len(set(priorities)) == 3
    assert all(1 <= p < 2**31 for p in priorities)
    assert auto_priority(pods[0]) == priorities[0]


def test_auto_peering_priority_comes_from_the_host_name() -> None:
    settings = load_settings({"EXECUTION_OPERATOR_PEERING_PRIORITY": "auto"})
    assert settings.peering_priority == auto_priority(socket.gethostname())


def test_a_peering_priority_is_auto_or_a_whole_number() -> None:
    with pytest.raises(SettingsError, match="EXECUTION_OPERATOR_PEERING_PRIORITY"):
        load_settings({"EXECUTION_OPERATOR_PEERING_PRIORITY": "high"})
