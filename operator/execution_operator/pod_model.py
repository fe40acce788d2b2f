"""The pod settings of an Execution: resources and the pod template."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .api_types import ApiModel, FreeObject, ObjectName, Quantity


class ResourceRequirements(ApiModel):
    """Container requests and limits (cgroups), as in a Pod."""

    requests: dict[str, Quantity] | None = Field(
        default=None, description="Minimum resources, e.g. cpu: 100m, memory: 128Mi."
    )
    limits: dict[str, Quantity] | None = Field(
        default=None,
        description="Maximum resources; exceeding the memory limit is OOMKilled.",
    )


class Toleration(ApiModel):
    """A Kubernetes toleration."""

    key: str | None = Field(default=None, description="Taint key; empty matches all keys.")
    operator: Literal["Exists", "Equal"] | None = Field(
        default=None, description="Exists or Equal (default Equal)."
    )
    value: str | None = Field(default=None, description="Taint value for Equal.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(
        default=None, description="Taint effect to match; empty matches all."
    )
    toleration_seconds: int | None = Field(
        default=None, description="How long a NoExecute taint is tolerated."
    )


class LocalName(ApiModel):
    """A reference by name to an object in the same namespace."""

    name: ObjectName = Field(description="Name of the object.")


class PodTemplate(ApiModel):
    """The pod settings an Execution may choose; everything else is the operator's."""

    labels: dict[str, str] | None = Field(default=None, description="Extra pod labels.")
    annotations: dict[str, str] | None = Field(default=None, description="Extra pod annotations.")
    node_selector: dict[str, str] | None = Field(
        default=None, description="Node labels the pod must run on."
    )
    tolerations: list[Toleration] | None = Field(default=None, description="Pod tolerations.")
    affinity: FreeObject | None = Field(
        default=None, description="Pod affinity, as in a Pod spec (passed through)."
    )
    runtime_class_name: str | None = Field(
        default=None, max_length=253, description="RuntimeClass, e.g. gvisor or kata."
    )
    priority_class_name: str | None = Field(
        default=None, max_length=253, description="PriorityClass of the pod."
    )
    image_pull_secrets: list[LocalName] | None = Field(
        default=None, description="Secrets for pulling a private runner image."
    )
