"""The builders applied to an Execution body, its spec parsed once as a step does."""

from __future__ import annotations

from typing import Any

from execution_operator import builders
from execution_operator.settings import Settings
from execution_operator.validation import parse_spec
from execution_runner import protocol


def payload(execution: dict[str, Any], attempt: int, settings: Settings) -> builders.Payload:
    return builders.build_payload(execution, parse_spec(execution), attempt, settings)


def pod(execution: dict[str, Any], attempt: int, settings: Settings) -> dict[str, Any]:
    spec = parse_spec(execution)
    made = builders.build_payload(execution, spec, attempt, settings)
    return builders.build_pod(execution, spec, attempt, settings, made)


def payload_configmap(
    execution: dict[str, Any], attempt: int, settings: Settings
) -> dict[str, Any]:
    return builders.build_payload_configmap(
        execution, payload(execution, attempt, settings), attempt
    )


def runner_config(
    execution: dict[str, Any], attempt: int, settings: Settings
) -> protocol.RunnerConfigDoc:
    return builders.build_runner_config(execution, parse_spec(execution), attempt, settings)
