"""The payload directory: code.py, input.json (+ input-data.json), runner.json."""

from __future__ import annotations

import os

from execution_runner import fastjson, protocol
from execution_runner.config import RunnerConfig, parse_runner_config
from execution_runner.errors import RunnerError
from execution_runner.protocol import InputKey


class Payload:
    """What the child needs: where the code is, the input document, the settings."""

    __slots__ = ("code_path", "config", "data", "payload_type")

    def __init__(
        self, code_path: str, data: object, payload_type: str | None, config: RunnerConfig
    ) -> None:
        self.code_path = code_path
        self.data = data  # the code's `data`, parsed from JSON
        self.payload_type = payload_type
        self.config = config


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RunnerError(f"cannot read {os.path.basename(path)}: {exc.strerror}") from exc


def _parse_json(raw: bytes, name: str) -> object:
    try:
        return fastjson.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise RunnerError(f"{name} is not valid JSON: {exc}") from exc


def _input(directory: str) -> tuple[object, str | None]:
    raw_input = _read(os.path.join(directory, protocol.INPUT_FILE))
    document = _parse_json(raw_input, protocol.INPUT_FILE) if raw_input is not None else {}
    if not isinstance(document, dict):
        raise RunnerError(f"{protocol.INPUT_FILE} must be a JSON object with `data`")
    payload_type = document.get(InputKey.PAYLOAD_TYPE)
    if payload_type is not None and not isinstance(payload_type, str):
        raise RunnerError(f"{protocol.INPUT_FILE}: `payload_type` must be a string or null")
    raw_data = _read(os.path.join(directory, protocol.INPUT_DATA_FILE))
    if raw_data is not None:
        data = _parse_json(raw_data, protocol.INPUT_DATA_FILE)
    else:
        data = document.get(InputKey.DATA, {})  # the Execution's `input` defaults to {}
    return data, payload_type


def load_payload(directory: str) -> Payload:
    """Reads and checks the payload; anything wrong is a RunnerError saying what."""
    if not os.path.isdir(directory):
        raise RunnerError(f"the payload directory {directory} does not exist")
    code_path = os.path.join(directory, protocol.CODE_FILE)
    if not os.path.isfile(code_path):
        raise RunnerError(f"the payload has no {protocol.CODE_FILE}")
    raw_config = _read(os.path.join(directory, protocol.RUNNER_CONFIG_FILE))
    config = parse_runner_config(
        _parse_json(raw_config, protocol.RUNNER_CONFIG_FILE) if raw_config is not None else {}
    )
    return Payload(code_path, *_input(directory), config)
