"""The Helm chart, rendered with helm and read back: defaults, RBAC, schema, CRD policy."""

from __future__ import annotations

import dataclasses
import tomllib
from typing import Any

import pytest
import yaml
from execution_operator.settings import Settings, env_name

from scripts import chart_values_table
from tests.support.helm import CHART, REPO, render, render_error
from tests.support.pod_security import restricted_violations

STANDARD_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
)
NAMESPACED = {"watchNamespaces": ["team-a", "team-b"]}
PEERING = {"replicaCount": 2, "peering": {"enabled": True}}
EVERYTHING_ON = {
    **PEERING,
    "metrics": {"serviceMonitor": {"enabled": True}},
    "networkPolicy": {
        "operator": {"enabled": True, "apiServerCidrs": ["10.0.0.1/32"]},
        "executions": {
            "enabled": True,
            "namespaces": ["team-a"],
            "logBackend": {"cidrs": ["10.1.0.0/24"], "port": 8443},
        },
    },
}
VALUE_SETS = {"defaults": {}, "namespaced": NAMESPACED, "peering": PEERING, "all": EVERYTHING_ON}


def _of_kind(objects: list[dict[str, Any]], *kinds: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] in kinds]


def _deployment(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (deployment,) = _of_kind(objects, "Deployment")
    return deployment


def _env(objects: list[dict[str, Any]]) -> dict[str, str]:
    container = _deployment(objects)["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value") for e in container["env"]}


def test_the_operator_pod_meets_the_restricted_pod_security_profile() -> None:
    template = _deployment(render())["spec"]["template"]
    assert restricted_violations({"kind": "Pod", **template}) == []
    container = template["spec"]["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert template["spec"]["securityContext"]["runAsUser"] != 0
    # Service links would add EXECUTION_OPERATOR_METRICS_* variables the settings refuse.
    assert template["spec"]["enableServiceLinks"] is False


def test_one_replica_is_replaced_not_rolled() -> None:
    deployment = _deployment(render())
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert _env(render())["EXECUTION_OPERATOR_PEERING"] == "false"


def test_more_replicas_need_peering_and_get_distinct_priorities() -> None:
    assert "peering.enabled" in render_error({"replicaCount": 2})
    objects = render(PEERING)
    assert "strategy" not in _deployment(objects)["spec"]
    assert _env(objects)["EXECUTION_OPERATOR_PEERING"] == "true"
    assert _env(objects)["EXECUTION_OPERATOR_PEERING_PRIORITY"] == "auto"
    rules = [r for o in _of_kind(objects, "ClusterRole") for r in o["rules"]]
    assert any("clusterkopfpeerings" in r["resources"] for r in rules)
    crds = {o["metadata"]["name"] for o in _of_kind(objects, "CustomResourceDefinition")}
    assert {"clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev"} <= crds


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_no_role_grants_anything_on_secrets(values: dict[str, Any]) -> None:
    rules = [r for o in _of_kind(render(values), "Role", "ClusterRole") for r in o["rules"]]
    assert rules
    for rule in rules:
        assert not {"secrets", "*"} & set(rule["resources"]), rule
        assert "*" not in rule["verbs"], rule
        assert "*" not in rule["apiGroups"], rule


def test_namespaced_mode_yields_only_roles_in_the_watched_namespaces() -> None:
    objects = render(NAMESPACED)
    assert _of_kind(objects, "ClusterRole", "ClusterRoleBinding") == []
    roles = _of_kind(objects, "Role", "RoleBinding")
    assert sorted((o["kind"], o["metadata"]["namespace"]) for o in roles) == [
        ("Role", "team-a"),
        ("Role", "team-b"),
        ("RoleBinding", "team-a"),
        ("RoleBinding", "team-b"),
    ]
    assert _env(objects)["EXECUTION_OPERATOR_NAMESPACES"] == "team-a,team-b"


def test_cluster_wide_mode_binds_one_cluster_role_to_the_service_account() -> None:
    objects = render()
    (binding,) = _of_kind(objects, "ClusterRoleBinding")
    (account,) = _of_kind(objects, "ServiceAccount")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": "ops"}
    ]
    pod_spec = _deployment(objects)["spec"]["template"]["spec"]
    assert pod_spec["serviceAccountName"] == account["metadata"]["name"]


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_every_object_and_the_operator_pod_carry_the_standard_labels(
    values: dict[str, Any],
) -> None:
    objects = render(values)
    pod = _deployment(objects)["spec"]["template"]
    for o in [*objects, pod]:
        labels = o["metadata"]["labels"]
        assert all(labels.get(k) for k in STANDARD_LABELS), (o.get("kind"), labels)
        assert labels["app.kubernetes.io/name"] == "execution-operator"
        assert labels["app.kubernetes.io/instance"] == "eo"


def test_every_operator_setting_is_a_value() -> None:
    env = _env(render())
    expected = {env_name(f.name) for f in dataclasses.fields(Settings)}
    assert expected <= set(env)
    assert env["EXECUTION_OPERATOR_RUNNER_IMAGE"] == "localhost/execution-runner:0.1.0"


def test_values_reach_the_operator_settings() -> None:
    env = _env(
        render(
            {
                "runner": {"image": {"repository": "r.example/runner", "tag": "7"}},
                "settings": {"maxResultBytes": "512Ki", "logEndpoint": "https://logs.example"},
            }
        )
    )
    assert env["EXECUTION_OPERATOR_RUNNER_IMAGE"] == "r.example/runner:7"
    assert env["EXECUTION_OPERATOR_MAX_RESULT_BYTES"] == "512Ki"
    assert env["EXECUTION_OPERATOR_LOG_ENDPOINT"] == "https://logs.example"


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"replicaCount": "two"}, "/replicaCount"),
        ({"replicaCount": 0}, "/replicaCount"),
        ({"unknownKey": 1}, "unknownKey"),
        ({"settings": {"maxResultBytes": "lots"}}, "/settings/maxResultBytes"),
        ({"settings": {"runAsIdStart": 0}}, "/settings/runAsIdStart"),
        ({"settings": {"typo": 1}}, "typo"),
        ({"runner": {"pullPolicy": "Sometimes"}}, "/runner/pullPolicy"),
        ({"watchNamespaces": ["Not_A_Namespace"]}, "/watchNamespaces/0"),
        ({"crds": {"keep": "yes"}}, "/crds/keep"),
        ({"metrics": {"port": 70000}}, "/metrics/port"),
        ({"image": {"digest": "latest"}}, "/image/digest"),
    ],
)
def test_the_schema_rejects_bad_values(values: dict[str, Any], complaint: str) -> None:
    assert complaint in render_error(values)


def test_crds_are_kept_on_uninstall_by_default() -> None:
    (crd,) = _of_kind(render(), "CustomResourceDefinition")
    assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


def test_crds_can_be_left_to_helm_or_to_someone_else() -> None:
    (crd,) = _of_kind(render({"crds": {"keep": False}}), "CustomResourceDefinition")
    assert "helm.sh/resource-policy" not in crd["metadata"].get("annotations", {})
    assert _of_kind(render({"crds": {"install": False}}), "CustomResourceDefinition") == []


def test_the_chart_installs_the_crd_the_api_types_generate() -> None:
    (crd,) = _of_kind(render(), "CustomResourceDefinition")
    generated = yaml.safe_load(
        (REPO / "crds" / "executions.execution-operator.io.yaml").read_text()
    )
    assert crd["spec"] == generated["spec"]
    for name in ("executions.execution-operator.io.yaml", "kopf-peering.yaml"):
        shipped = (CHART / "files" / "crds" / name).read_text()
        assert shipped == (REPO / "crds" / name).read_text(), f"run make crds ({name})"


def test_app_version_is_the_project_version() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert chart["appVersion"] == project["version"]


def test_metrics_service_targets_the_metrics_port() -> None:
    objects = render()
    (service,) = _of_kind(objects, "Service")
    container = _deployment(objects)["spec"]["template"]["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"
    assert ports["metrics"] == 9090
    pod_labels = _deployment(objects)["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()


def test_execution_network_policy_allows_only_the_log_backend() -> None:
    policies = _of_kind(render(EVERYTHING_ON), "NetworkPolicy")
    (executions,) = [p for p in policies if p["metadata"]["namespace"] == "team-a"]
    assert executions["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert executions["spec"]["ingress"] == []
    assert executions["spec"]["egress"] == [
        {"to": [{"ipBlock": {"cidr": "10.1.0.0/24"}}], "ports": [{"port": 8443, "protocol": "TCP"}]}
    ]
    selector = executions["spec"]["podSelector"]["matchLabels"]
    assert selector["app.kubernetes.io/component"] == "execution"


def test_the_chart_readme_lists_every_value_with_its_default() -> None:
    readme = (CHART / "README.md").read_text()
    assert chart_values_table.undocumented() == []
    assert readme == chart_values_table.readme_with_table(readme), (
        "run python scripts/chart_values_table.py"
    )
