"""Record parsing and encoding: plain and JSON lines, attributes, redaction."""

from __future__ import annotations

import json

from execution_runner.collector.records import (
    IDENTITY_PREFIX,
    RecordEncoder,
    common_attributes,
    parse_line,
)
from execution_runner.protocol import rfc3339
from execution_runner.redact import REDACTED, Redactor

NO_SECRETS = Redactor([])
ARRIVAL = 1_700_000_000.25
IDENTITY = {"namespace": "team-a", "name": "hello", "uid": "u-1", "pod": "p-1", "node": "n1"}


def test_timestamp_is_rfc3339_utc_with_microseconds() -> None:
    assert rfc3339(ARRIVAL) == "2023-11-14T22:13:20.250000Z"
    assert rfc3339(0.9999999) == "1970-01-01T00:00:01.000000Z"


def test_stdout_line_is_plain_info_record() -> None:
    assert parse_line("stdout", "hello", ARRIVAL, NO_SECRETS) == {
        "timestamp": "2023-11-14T22:13:20.250000Z",
        "level": "INFO",
        "logger_name": "stdout",
        "message": "hello",
        "attributes": {},
    }


def test_stderr_line_is_plain_error_record() -> None:
    record = parse_line("stderr", "Traceback (most recent call last):", ARRIVAL, NO_SECRETS)
    assert (record["level"], record["logger_name"]) == ("ERROR", "stderr")


def test_json_log_line_gives_its_message_and_attributes_only() -> None:
    line = json.dumps(
        {
            "timestamp": "2024-05-01T12:00:00Z",
            "level": "WARNING",
            "logger_name": "train",
            "message": "loss went up",
            "epoch": 3,
            "attributes": {"run": "r1"},
        }
    )
    # Timestamp, level and logger are the collector's; the line's own go to attributes.
    assert parse_line("stderr", line, ARRIVAL, NO_SECRETS) == {
        "timestamp": "2023-11-14T22:13:20.250000Z",
        "level": "ERROR",
        "logger_name": "stderr",
        "message": "loss went up",
        "attributes": {
            "timestamp": "2024-05-01T12:00:00Z",
            "level": "WARNING",
            "logger_name": "train",
            "epoch": 3,
            "run": "r1",
        },
    }


def test_json_line_cannot_backdate_or_disguise_its_record() -> None:
    line = '{"message": {"k": 1}, "timestamp": 0, "level": "DEBUG", "logger_name": "runner"}'
    record = parse_line("stdout", line, ARRIVAL, NO_SECRETS)
    assert (record["level"], record["logger_name"]) == ("INFO", "stdout")
    assert record["message"] == '{"k": 1}'
    assert record["timestamp"] == "2023-11-14T22:13:20.250000Z"
    assert record["attributes"] == {"timestamp": 0, "level": "DEBUG", "logger_name": "runner"}


def test_json_that_is_not_a_log_object_stays_plain() -> None:
    for line in ('{"no_message": 1}', "[1, 2]", '{"message": NaN}', "{not json}", "{" * 5000):
        assert parse_line("stdout", line, ARRIVAL, NO_SECRETS)["message"] == line


def test_secret_is_redacted_verbatim_escaped_and_as_number() -> None:
    redact = Redactor(['pa"ss\\word', "424242"])
    assert parse_line("stdout", 'x pa"ss\\word y', ARRIVAL, redact)["message"] == f"x {REDACTED} y"
    line = json.dumps({"message": 'is pa"ss\\word', "pin": 424242, 'pa"ss\\word': "key"})
    record = parse_line("stdout", line, ARRIVAL, redact)
    assert record["message"] == f"is {REDACTED}"
    assert record["attributes"] == {"pin": REDACTED, REDACTED: "key"}


def test_identity_is_prefixed_and_wins_over_attributes() -> None:
    common = common_attributes({"uid": "real"}, {"execution_uid": "spoofed", "job_id": "j"})
    assert common == {f"{IDENTITY_PREFIX}uid": "real", "job_id": "j"}


def test_encoded_plain_and_json_records_carry_common_attributes() -> None:
    encoder = RecordEncoder(common_attributes(IDENTITY, {"job_id": "j"}), NO_SECRETS)
    plain = json.loads(encoder.encode("stdout", 'say "hi" \u00e9', ARRIVAL))
    assert plain == {
        **parse_line("stdout", 'say "hi" \u00e9', ARRIVAL, NO_SECRETS),
        "attributes": {
            "job_id": "j",
            **{IDENTITY_PREFIX + k: v for k, v in IDENTITY.items()},
            "stream": "stdout",
        },
    }
    structured = json.loads(
        encoder.encode("stderr", '{"message": "m", "execution_uid": "x", "k": 1}', ARRIVAL)
    )
    assert structured["attributes"]["k"] == 1
    assert structured["attributes"]["execution_uid"] == "u-1"  # user code cannot spoof it
    assert structured["attributes"]["stream"] == "stderr"


def test_encoding_survives_undecodable_text() -> None:
    encoder = RecordEncoder({}, NO_SECRETS)
    assert (
        json.loads(encoder.encode("stdout", "bad \udcff byte", ARRIVAL))["message"] == "bad ? byte"
    )
