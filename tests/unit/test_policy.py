"""The admin's policy: allowed runner images, refused tolerations, a uid per run."""

import dataclasses

import pytest
from execution_operator import models, policy
from execution_operator.settings import Settings, SettingsError, load_settings

SETTINGS = Settings(runner_image="registry.example:5000/team/runner:1.2")


def _spec(**fields: object) -> models.ExecutionSpec:
    return models.ExecutionSpec.model_validate({"code": "result = 1", **fields})


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        ("busybox", "busybox"),
        ("busybox:1.36", "busybox"),
        ("registry.example:5000/team/runner", "registry.example:5000/team/runner"),
        ("registry.example:5000/team/runner:1.2", "registry.example:5000/team/runner"),
        ("team/runner@sha256:" + "a" * 64, "team/runner"),
        ("team/runner:1@sha256:" + "a" * 64, "team/runner"),
    ],
)
def test_image_repository_drops_tag_and_digest_not_the_port(image: str, repository: str) -> None:
    assert policy.image_repository(image) == repository


def test_default_policy_allows_only_the_runner_images_repository() -> None:
    assert policy.allowed_repositories(SETTINGS) == ("registry.example:5000/team/runner",)
    assert (
        list(policy.policy_errors(_spec(image="registry.example:5000/team/runner:2"), SETTINGS))
        == []
    )
    (error,) = policy.policy_errors(_spec(image="busybox"), SETTINGS)
    assert error.startswith("spec.image: 'busybox' is not an allowed runner image")
    assert "registry.example:5000/team/runner" in error


@pytest.mark.parametrize(
    ("image", "allowed"),
    [
        ("registry.example:5000/team/runner-evil:1", False),  # no bare prefix match
        ("registry.example:5000/team/runner/x:1", False),
        ("registry.example:5000/other/tool:1", True),  # under an entry ending in /
        ("registry.example:5000/otherwise:1", False),
        ("mirror.example/runner@sha256:" + "b" * 64, True),
    ],
)
def test_listed_repositories_match_exactly_or_below_a_slash(image: str, allowed: bool) -> None:
    entries = (
        "registry.example:5000/team/runner",
        "registry.example:5000/other/",
        "mirror.example/runner",
    )
    assert policy.image_allowed(image, entries) is allowed


def test_allowed_images_setting_replaces_the_default() -> None:
    settings = load_settings({"EXECUTION_OPERATOR_ALLOWED_IMAGES": "a/b, c/"})
    assert policy.allowed_repositories(settings) == ("a/b", "c/")


@pytest.mark.parametrize(
    ("toleration", "problem"),
    [
        ({"operator": "Exists"}, "tolerates every taint"),
        ({"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}, "not allowed"),
        (
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
            "not allowed",
        ),
        ({"key": "dedicated", "operator": "Equal", "value": "batch"}, None),
    ],
)
def test_tolerations_of_protected_taints_are_refused(
    toleration: dict[str, str], problem: str | None
) -> None:
    spec = _spec(podTemplate={"tolerations": [{"key": "gpu", "operator": "Exists"}, toleration]})
    errors = list(policy.policy_errors(spec, SETTINGS))
    if problem is None:
        assert errors == []
    else:
        (error,) = errors
        assert error.startswith("spec.podTemplate.tolerations[1]: ")
        assert problem in error


def test_denied_toleration_keys_are_a_setting() -> None:
    settings = dataclasses.replace(SETTINGS, denied_toleration_keys=("dedicated",))
    spec = _spec(
        podTemplate={
            "tolerations": [
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists"},
                {"key": "dedicated", "operator": "Exists"},
            ]
        }
    )
    (error,) = policy.policy_errors(spec, settings)
    assert error.startswith("spec.podTemplate.tolerations[1]")


def test_each_attempt_gets_its_own_uid_in_the_range() -> None:
    settings = dataclasses.replace(SETTINGS, run_as_id_start=200000, run_as_id_count=1000)
    ids = {policy.run_as_id(f"uid-{n}", attempt, settings) for n in range(50) for attempt in (1, 2)}
    assert all(200000 <= i < 201000 for i in ids)
    assert len(ids) > 90  # spread, not one shared uid
    assert policy.run_as_id("u", 1, settings) == policy.run_as_id("u", 1, settings)
    assert policy.run_as_id("u", 1, settings) != policy.run_as_id("u", 2, settings)


@pytest.mark.parametrize(
    "environ",
    [
        {"EXECUTION_OPERATOR_RUN_AS_ID_START": "0"},
        {"EXECUTION_OPERATOR_RUN_AS_ID_COUNT": "0"},
        {
            "EXECUTION_OPERATOR_RUN_AS_ID_START": str(2**31 - 10),
            "EXECUTION_OPERATOR_RUN_AS_ID_COUNT": "100",
        },
    ],
)
def test_uid_range_must_be_non_root_and_valid(environ: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match="RUN_AS_ID"):
        load_settings(environ)
