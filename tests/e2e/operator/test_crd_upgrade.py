"""A CRD upgrade that adds a defaulted field leaves finished Executions as they were."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from execution_operator import models
from kubernetes import client

from tests.support import kube
from tests.support.operator_process import install_crds
from tests.support.waiting import poll_until

Apply = Callable[..., dict[str, Any]]
Wait = Callable[..., dict[str, Any]]
Get = Callable[[str], dict[str, Any]]
CRD_NAME = f"{models.PLURAL}.{models.GROUP}"


@pytest.fixture
def upgraded_crd(kube_api: client.ApiClient) -> Iterator[None]:
    """The CRD with one more defaulted spec field, as a future version would add."""
    extensions = client.ApiextensionsV1Api(kube_api)

    def set_future_field(schema: client.V1JSONSchemaProps | None) -> None:
        crd = extensions.read_custom_resource_definition(CRD_NAME)
        version = next(v for v in crd.spec.versions if v.name == models.VERSION)
        properties = version.schema.open_api_v3_schema.properties["spec"].properties
        if schema is None:
            properties.pop("futureField", None)
        else:
            properties["futureField"] = schema
        extensions.replace_custom_resource_definition(CRD_NAME, crd)

    set_future_field(client.V1JSONSchemaProps(type="string", default="from-the-future"))
    try:
        yield
    finally:
        set_future_field(None)
        install_crds()


def test_finished_executions_survive_a_crd_upgrade(
    apply_execution: Apply,
    wait_phase: Wait,
    get_execution: Get,
    custom: client.CustomObjectsApi,
    namespace: str,
    request: pytest.FixtureRequest,
) -> None:
    apply_execution("before-upgrade", {"code": "result = 'done'"})
    before = wait_phase("before-upgrade")
    assert before["phase"] == "Succeeded"

    request.getfixturevalue("upgraded_crd")

    def served_with_default() -> bool:
        return get_execution("before-upgrade")["spec"].get("futureField") == "from-the-future"

    kube.wait_until(served_with_default, 30, "the API server to serve the new default")
    # A metadata change makes the operator look at the Execution again.
    custom.patch_namespaced_custom_object(
        models.GROUP,
        models.VERSION,
        namespace,
        models.PLURAL,
        "before-upgrade",
        {"metadata": {"labels": {"touched": "yes"}}},
    )
    apply_execution("after-upgrade", {"code": "result = 'new'"})
    assert wait_phase("after-upgrade").get("result") == "new"

    def changed() -> dict[str, Any] | None:
        status: dict[str, Any] = get_execution("before-upgrade")["status"]
        return status if status != before else None

    assert poll_until(changed, 5, 0.2) is None
