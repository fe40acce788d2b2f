"""The payload and the Pod of one attempt, built without a cluster."""

import json
from typing import Any

from execution_operator.settings import Settings
from execution_runner import protocol

from tests.support import built

UID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
SETTINGS = Settings(runner_image="registry.example/runner:1", log_endpoint="")
IN_CONFIGMAPS = Settings(runner_image="registry.example/runner:1", inline_payload_max_bytes=0)


def _execution(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "execution-operator.io/v1alpha1",
        "kind": "Execution",
        "metadata": {"name": "hello", "namespace": "team-a", "uid": UID, "generation": 2},
        "spec": {"code": "result = data", **spec},
    }


def _container(pod: dict[str, Any]) -> dict[str, Any]:
    return pod["spec"]["containers"][0]  # type: ignore[no-any-return]


def test_configmap_holds_code_input_and_runner_config() -> None:
    cm = built.payload_configmap(_execution(input={"x": 1}, payloadType="json"), 1, SETTINGS)
    assert cm["metadata"]["name"] == "exe-hello-0f1e2d3c-1"
    assert cm["metadata"]["namespace"] == "team-a"
    assert cm["metadata"]["ownerReferences"][0]["uid"] == UID
    assert cm["immutable"] is True
    assert cm["data"]["code.py"] == "result = data"
    assert json.loads(cm["data"]["input.json"]) == {"data": {"x": 1}, "payload_type": "json"}
    assert json.loads(cm["data"]["runner.json"])["execution"] == {
        "namespace": "team-a",
        "name": "hello",
        "uid": UID,
        "attempt": 1,
    }


def test_runner_config_resolves_quantities_to_integers() -> None:
    config = built.runner_config(
        _execution(rlimits={"memory": "256Mi", "fileSize": "1Mi", "processes": 16}, threads=4),
        1,
        SETTINGS,
    )
    assert config["timeoutSeconds"] == 30
    assert config["rlimits"] == {
        "stack": 20 * 1024**2,
        "memory": 256 * 1024**2,
        "cpuSeconds": None,
        "openFiles": None,
        "processes": 16,
        "fileSize": 1024**2,
    }
    assert config["threads"] == 4
    assert config["maxResultBytes"] == 256 * 1024
    assert config["requireResult"] is False


def test_default_memory_rlimit_applies_when_the_spec_sets_none() -> None:
    settings = Settings(default_memory_rlimit="512Mi")
    assert built.runner_config(_execution(), 1, settings)["rlimits"]["memory"] == (512 * 1024**2)


def test_runner_config_names_env_secret_env_and_env_from_markers() -> None:
    ref = {"name": "s", "key": "k"}
    config = built.runner_config(
        _execution(
            env=[
                {"name": "PLAIN", "value": "1"},
                {"name": "TOKEN", "valueFrom": {"secretKeyRef": ref}},
                {"name": "SETTING", "valueFrom": {"configMapKeyRef": ref}},
            ],
            envFrom=[{"secretRef": {"name": "s"}}, {"configMapRef": {"name": "c"}, "prefix": "P_"}],
        ),
        1,
        SETTINGS,
    )
    assert config["env"] == ["PLAIN", "TOKEN", "SETTING"]
    assert config["secretEnv"] == ["TOKEN"]
    assert config["envFrom"] == [
        {"prefix": "EXECUTION_ENVFROM_0_", "secret": True},
        {"prefix": "EXECUTION_ENVFROM_1_", "secret": False},
    ]


def test_logs_ship_only_with_an_endpoint() -> None:
    off = built.runner_config(_execution(), 1, SETTINGS)["logs"]
    assert off["enabled"] is False
    on = built.runner_config(
        _execution(logs={"attributes": {"job_id": "7"}}),
        1,
        Settings(log_endpoint="http://logs:8080/ingest"),
    )["logs"]
    assert on == {
        "enabled": True,
        "endpoint": "http://logs:8080/ingest",
        "attributes": {"job_id": "7"},
        "flushIntervalMillis": 1000,
        "maxBatchBytes": 10 * 1024**2,
        "overflow": "block",
    }
    disabled = built.runner_config(
        _execution(logs={"enabled": False, "endpoint": "http://x"}), 1, SETTINGS
    )
    assert disabled["logs"]["enabled"] is False


def test_pod_is_locked_down() -> None:
    pod = built.pod(_execution(), 1, SETTINGS)
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Never"
    assert spec["automountServiceAccountToken"] is False
    assert spec["enableServiceLinks"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True
    ids = spec["securityContext"]
    assert (
        SETTINGS.run_as_id_start
        <= ids["runAsUser"]
        < (SETTINGS.run_as_id_start + SETTINGS.run_as_id_count)
    )
    assert ids["runAsGroup"] == ids["fsGroup"] == ids["runAsUser"]
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = _container(pod)["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["readOnlyRootFilesystem"] is True
    assert spec["activeDeadlineSeconds"] == 300 + 30 + SETTINGS.termination_grace_seconds
    assert spec["terminationGracePeriodSeconds"] == SETTINGS.termination_grace_seconds
    assert _container(pod)["terminationMessagePolicy"] == "File"


def test_pod_identity_owner_and_image() -> None:
    pod = built.pod(_execution(), 3, SETTINGS)
    meta = pod["metadata"]
    assert meta["name"] == "exe-hello-0f1e2d3c-3"
    assert meta["labels"]["execution-operator.io/attempt"] == "3"
    assert meta["annotations"]["execution-operator.io/generation"] == "2"
    assert meta["ownerReferences"][0]["controller"] is True
    assert _container(pod)["image"] == "registry.example/runner:1"
    assert _container(pod)["imagePullPolicy"] == "IfNotPresent"
    custom = built.pod(_execution(image="my/runner:2"), 1, SETTINGS)
    assert _container(custom)["image"] == "my/runner:2"


def test_payload_is_mounted_read_only_and_tmp_is_an_empty_dir() -> None:
    pod = built.pod(_execution(), 1, IN_CONFIGMAPS)
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["payload"]["projected"]["sources"] == [
        {"configMap": {"name": "exe-hello-0f1e2d3c-1"}}
    ]
    assert volumes["payload"]["projected"]["defaultMode"] == 0o444
    assert volumes["tmp"]["emptyDir"] == {"sizeLimit": "256Mi"}
    mounts = {m["name"]: m for m in _container(pod)["volumeMounts"]}
    assert mounts["payload"] == {
        "name": "payload",
        "mountPath": "/var/run/execution",
        "readOnly": True,
    }
    assert mounts["tmp"]["mountPath"] == "/tmp"
    assert not [key for key in pod["metadata"]["annotations"] if "payload" in key]


def _payload_files(pod: dict[str, Any]) -> dict[str, str]:
    """What the kubelet writes into the payload volume from the pod's own annotations."""
    (source,) = pod["spec"]["volumes"][0]["projected"]["sources"]
    annotations = pod["metadata"]["annotations"]
    files = {}
    for item in source["downwardAPI"]["items"]:
        path = item["fieldRef"]["fieldPath"]
        prefix, key, suffix = "metadata.annotations['", path[22:-2], "']"
        assert path == prefix + key + suffix
        files[item["path"]] = annotations[key]
    return files


def test_a_small_payload_travels_in_the_pods_own_annotations() -> None:
    execution = _execution(input={"x": 1}, payloadType="json")
    pod = built.pod(execution, 1, SETTINGS)
    assert _payload_files(pod) == built.payload_configmap(execution, 1, SETTINGS)["data"]
    assert set(_payload_files(pod)) == {"code.py", "input.json", "runner.json"}
    assert pod["spec"]["volumes"][0]["projected"]["defaultMode"] == 0o444


def test_a_payload_over_the_limit_goes_in_a_configmap() -> None:
    limit = SETTINGS.inline_payload_max_bytes
    small = built.payload(_execution(code="#" * (limit - 1200)), 1, SETTINGS)
    large = built.payload(_execution(code="#" * limit), 1, SETTINGS)
    assert (small.inline, large.inline) == (True, False)
    pod = built.pod(_execution(code="#" * limit), 1, SETTINGS)
    assert pod["spec"]["volumes"][0]["projected"]["sources"] == [
        {"configMap": {"name": "exe-hello-0f1e2d3c-1"}}
    ]


def test_the_templates_annotations_count_against_the_api_servers_limit() -> None:
    # 200 KiB of the user's own annotations leave no room for a 60 KiB payload.
    roomy = Settings(inline_payload_max_bytes=128 * 1024)
    code = "#" * 60 * 1024
    alone = built.payload(_execution(code=code), 1, roomy)
    crowded = _execution(code=code, podTemplate={"annotations": {"big": "x" * 200 * 1024}})
    assert (alone.inline, built.payload(crowded, 1, roomy).inline) == (True, False)


def test_code_from_and_input_from_are_projected_from_the_users_configmaps() -> None:
    execution = _execution(
        codeFrom={"configMapKeyRef": {"name": "src", "key": "main.py"}},
        inputFrom={"configMapKeyRef": {"name": "in", "key": "data.json"}},
        payloadType="t",
    )
    del execution["spec"]["code"]
    cm = built.payload_configmap(execution, 1, IN_CONFIGMAPS)
    assert "code.py" not in cm["data"]
    assert json.loads(cm["data"]["input.json"]) == {"payload_type": "t"}
    pod = built.pod(execution, 1, IN_CONFIGMAPS)
    sources = pod["spec"]["volumes"][0]["projected"]["sources"]
    assert sources[1:] == [
        {"configMap": {"name": "src", "items": [{"key": "main.py", "path": "code.py"}]}},
        {
            "configMap": {
                "name": "in",
                "items": [{"key": "data.json", "path": protocol.INPUT_DATA_FILE}],
            }
        },
    ]


def test_env_is_the_users_then_the_runners() -> None:
    ref = {"name": "creds", "key": "token"}
    pod = built.pod(
        _execution(
            env=[{"name": "TOKEN", "valueFrom": {"secretKeyRef": ref}}],
            envFrom=[{"configMapRef": {"name": "c"}, "prefix": "APP_"}],
            logs={"endpoint": "http://logs", "credentialsSecretRef": {"name": "log-creds"}},
        ),
        1,
        SETTINGS,
    )
    env = _container(pod)["env"]
    # User env only under the marker: the runner's interpreter never sees the plain name.
    assert env[0] == {"name": "EXECUTION_ENV_TOKEN", "valueFrom": {"secretKeyRef": ref}}
    assert _container(pod)["command"] == [
        "python3",
        "-I",
        "-c",
        "from execution_runner.__main__ import main; main()",
    ]
    names = [e["name"] for e in env]
    assert names == [
        "EXECUTION_ENV_TOKEN",
        "EXECUTION_POD_NAME",
        "EXECUTION_NODE_NAME",
        "EXECUTION_LOGS_API_KEY",
        "EXECUTION_LOGS_WORKSPACE",
    ]
    assert env[3]["valueFrom"]["secretKeyRef"] == {
        "name": "log-creds",
        "key": "apiKey",
        "optional": False,
    }
    assert _container(pod)["envFrom"] == [
        {"prefix": "EXECUTION_ENVFROM_0_APP_", "configMapRef": {"name": "c"}}
    ]


def test_no_log_credentials_without_shipping() -> None:
    pod = built.pod(
        _execution(logs={"enabled": False, "credentialsSecretRef": {"name": "c"}}), 1, SETTINGS
    )
    assert "EXECUTION_LOGS_API_KEY" not in [e["name"] for e in _container(pod)["env"]]


def test_resources_from_the_spec_or_the_defaults() -> None:
    default = built.pod(_execution(), 1, SETTINGS)
    assert _container(default)["resources"] == SETTINGS.default_resources
    own = built.pod(_execution(resources={"limits": {"memory": "2Gi"}}), 1, SETTINGS)
    assert _container(own)["resources"] == {"limits": {"memory": "2Gi"}}


def test_pod_template_subset_passes_through_and_our_labels_win() -> None:
    pod = built.pod(
        _execution(
            podTemplate={
                "labels": {"team": "a", "app.kubernetes.io/managed-by": "me"},
                "annotations": {"note": "x"},
                "nodeSelector": {"pool": "exec"},
                "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}],
                "affinity": {"nodeAffinity": {"anything": ["kept"]}},
                "runtimeClassName": "gvisor",
                "priorityClassName": "low",
                "imagePullSecrets": [{"name": "pull"}],
            }
        ),
        1,
        SETTINGS,
    )
    meta, spec = pod["metadata"], pod["spec"]
    assert meta["labels"]["team"] == "a"
    assert meta["labels"]["app.kubernetes.io/managed-by"] == "execution-operator"
    assert meta["annotations"]["note"] == "x"
    assert spec["nodeSelector"] == {"pool": "exec"}
    assert spec["tolerations"] == [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}]
    assert spec["affinity"] == {"nodeAffinity": {"anything": ["kept"]}}
    assert spec["runtimeClassName"] == "gvisor"
    assert spec["priorityClassName"] == "low"
    assert spec["imagePullSecrets"] == [{"name": "pull"}]
    assert "labels" not in spec
