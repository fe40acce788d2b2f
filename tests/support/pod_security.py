"""The Pod Security Standards "restricted" profile (baseline included) as a checker.

Written from the Kubernetes documentation of the standards (policy version 1.28):
1.20 has no PodSecurity admission, so tests check pod bodies against these rules.
`restricted_violations(pod)` lists each broken rule with the field that breaks it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

ALLOWED_VOLUME_TYPES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
ALLOWED_SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t"}
BASELINE_CAPABILITIES = {
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
}
APPARMOR_PREFIX = "container.apparmor.security.beta.kubernetes.io/"


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    return list(_violations(pod))


def _containers(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for kind in ("initContainers", "containers", "ephemeralContainers"):
        for i, container in enumerate(spec.get(kind) or []):
            yield f"spec.{kind}[{i}]", container


def _violations(pod: dict[str, Any]) -> Iterator[str]:
    spec = pod.get("spec") or {}
    pod_sc = spec.get("securityContext") or {}
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(host):
            yield f"spec.{host} must be unset or false"
    for i, volume in enumerate(spec.get("volumes") or []):
        kinds = set(volume) - {"name"}
        if not kinds <= ALLOWED_VOLUME_TYPES:
            yield f"spec.volumes[{i}] uses {sorted(kinds - ALLOWED_VOLUME_TYPES)}"
    for key, value in ((pod.get("metadata") or {}).get("annotations") or {}).items():
        if (
            key.startswith(APPARMOR_PREFIX)
            and value != "runtime/default"
            and not value.startswith("localhost/")
        ):
            yield f"metadata.annotations[{key}] must be runtime/default or localhost/*"
    for i, sysctl in enumerate(pod_sc.get("sysctls") or []):
        if sysctl.get("name") not in SAFE_SYSCTLS:
            yield f"spec.securityContext.sysctls[{i}] {sysctl.get('name')} is not a safe sysctl"
    yield from _identity_violations("spec.securityContext", pod_sc)
    if pod_sc.get("runAsUser") == 0:
        yield "spec.securityContext.runAsUser must not be 0"
    for where, container in _containers(spec):
        yield from _container_violations(where, container, pod_sc)


def _identity_violations(where: str, sc: dict[str, Any]) -> Iterator[str]:
    selinux = sc.get("seLinuxOptions") or {}
    if selinux.get("type", "") not in ALLOWED_SELINUX_TYPES:
        yield f"{where}.seLinuxOptions.type {selinux['type']} is not allowed"
    if selinux.get("user") or selinux.get("role"):
        yield f"{where}.seLinuxOptions user/role must be unset"
    if (sc.get("windowsOptions") or {}).get("hostProcess"):
        yield f"{where}.windowsOptions.hostProcess must be unset or false"
    seccomp = (sc.get("seccompProfile") or {}).get("type")
    if seccomp not in (None, "RuntimeDefault", "Localhost"):
        yield f"{where}.seccompProfile.type {seccomp} is not RuntimeDefault or Localhost"


def _container_violations(where: str, c: dict[str, Any], pod_sc: dict[str, Any]) -> Iterator[str]:
    sc = c.get("securityContext") or {}
    yield from _identity_violations(f"{where}.securityContext", sc)
    if sc.get("privileged"):
        yield f"{where}.securityContext.privileged must be unset or false"
    if sc.get("allowPrivilegeEscalation") is not False:
        yield f"{where}.securityContext.allowPrivilegeEscalation must be false"
    if sc.get("procMount", "Default") != "Default":
        yield f"{where}.securityContext.procMount must be Default"
    caps = sc.get("capabilities") or {}
    if "ALL" not in (caps.get("drop") or []):
        yield f"{where}.securityContext.capabilities.drop must include ALL"
    added = set(caps.get("add") or []) - {"NET_BIND_SERVICE"}
    if added:
        yield f"{where}.securityContext.capabilities.add has {sorted(added)}"
    if not sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")):
        yield f"{where}: runAsNonRoot must be true on the container or the pod"
    if sc.get("runAsUser") == 0:
        yield f"{where}.securityContext.runAsUser must not be 0"
    if not (sc.get("seccompProfile") or pod_sc.get("seccompProfile")):
        yield f"{where}: seccompProfile must be set on the container or the pod"
    for j, port in enumerate(c.get("ports") or []):
        if port.get("hostPort"):
            yield f"{where}.ports[{j}].hostPort must be unset or 0"
