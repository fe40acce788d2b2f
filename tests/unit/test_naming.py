"""Deterministic, valid names and the labels that find an Execution's objects."""

import re

import pytest
from execution_operator import naming

UID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def test_names_are_deterministic_from_uid_and_attempt() -> None:
    assert naming.object_name("hello", UID, 1) == "exe-hello-0f1e2d3c-1"
    assert naming.object_name("hello", UID, 1) == naming.object_name("hello", UID, 1)
    assert naming.object_name("hello", UID, 2) == "exe-hello-0f1e2d3c-2"


def test_long_and_odd_names_stay_valid_dns_labels() -> None:
    for name in ["a" * 253, "My.Execution_v2", "x.-y", "---", "a." * 100]:
        for attempt in (1, 10, 12345):
            result = naming.object_name(name, UID, attempt)
            assert len(result) <= 63
            assert DNS_LABEL.match(result), result
            assert result.endswith(f"-0f1e2d3c-{attempt}")


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError, match="attempts count from 1"):
        naming.object_name("a", UID, 0)


def test_labels_identify_execution_uid_and_attempt() -> None:
    body = {"metadata": {"name": "hello", "uid": UID}}
    assert naming.owned_labels(body, 3) == {
        "app.kubernetes.io/managed-by": "execution-operator",
        "app.kubernetes.io/component": "execution",
        "execution-operator.io/execution": "hello",
        "execution-operator.io/uid": UID,
        "execution-operator.io/attempt": "3",
    }
    assert naming.selector_for(body) == f"execution-operator.io/uid={UID}"


def test_label_values_too_long_for_a_label_are_shortened_with_a_hash() -> None:
    long_name = "a" * 200
    value = naming.label_value(long_name)
    assert len(value) <= 63
    assert value != naming.label_value("a" * 201)
    assert naming.label_value("ok-name") == "ok-name"


def test_owner_reference_makes_the_execution_the_controller() -> None:
    ref = naming.owner_reference({"metadata": {"name": "hello", "uid": UID}})
    assert ref == {
        "apiVersion": "execution-operator.io/v1alpha1",
        "kind": "Execution",
        "name": "hello",
        "uid": UID,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def test_only_the_controller_owner_reference_makes_an_object_ours() -> None:
    ours = {"metadata": {"ownerReferences": [{"uid": "u-1", "controller": True}]}}
    assert naming.controlled_by(ours, "u-1")
    assert not naming.controlled_by(ours, "u-2")
    # Labels can be copied by anyone; a non-controller reference is not a claim either.
    labelled = {"metadata": {"labels": {naming.UID_LABEL: "u-1"}}}
    assert not naming.controlled_by(labelled, "u-1")
    weak = {"metadata": {"ownerReferences": [{"uid": "u-1", "controller": False}]}}
    assert not naming.controlled_by(weak, "u-1")
