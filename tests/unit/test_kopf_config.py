"""kopf as the operator sets it up: no per-event copy of bodies, only our pods watched."""

from __future__ import annotations

import kopf
from execution_operator import kopf_config


def test_kopf_keeps_and_builds_no_diff_base_for_any_body() -> None:
    settings = kopf.OperatorSettings()
    kopf_config.apply(settings, peering=False, peering_name="unused")
    storage = settings.persistence.diffbase_storage
    body = kopf.Body({"metadata": {"name": "x", "annotations": {"a": "b"}}, "spec": {"code": "1"}})
    assert storage.build(body=body) == {}
    assert storage.fetch(body=body) is None
    patch = kopf.Patch()
    storage.store(body=body, patch=patch, essence=storage.build(body=body))
    assert not patch  # nothing written onto the object


def test_only_the_operators_pods_are_watched_and_kopf_posts_only_warnings() -> None:
    settings = kopf.OperatorSettings()
    kopf_config.apply(settings, peering=True, peering_name="ring")
    assert settings.watching.label_selectors["", "v1", "pods"] == kopf_config.POD_SELECTOR
    assert settings.posting.level >= 30
    assert settings.scanning.disabled
    assert (settings.peering.standalone, settings.peering.name) == (False, "ring")


def test_an_idle_objects_kopf_worker_and_the_body_it_holds_go_within_a_second() -> None:
    settings = kopf.OperatorSettings()
    default = settings.queueing.idle_timeout
    kopf_config.apply(settings, peering=False, peering_name="unused")
    assert settings.queueing.idle_timeout <= 1.0 < default
