#!/usr/bin/env bash
# Stops exactly what up.sh started (recorded pids, pods in the harness's own
# cgroup root, shims serving the harness's own containerd socket), then removes
# its mounts, network namespaces and veth. Safe on stale state from a run whose
# processes are already gone. Logs are kept for reading.
source "$(dirname "$0")/lib.sh"
QUIET=false
[[ "${1:-}" == "--quiet" ]] && QUIET=true
say() { $QUIET || log "$@"; }
cluster_lock

# Reverse start order: the kubelet first, so it stops restarting containers.
COMPONENTS=(kube-proxy kubelet kube-scheduler kube-controller-manager kube-apiserver containerd etcd)

# True when PID still runs the program recorded under NAME (guards against pid reuse).
is_ours() {
  local pid="$1" name="$2"
  [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$name"
}

stop_pid() {  # stop_pid PID : TERM, then KILL after a grace
  local pid="$1" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

for c in "${COMPONENTS[@]}"; do
  f="$PID_DIR/$c.pid"
  [[ -f "$f" ]] || continue
  pid="$(cat "$f")"
  if is_ours "$pid" "$c"; then
    say "stopping $c (pid $pid)"
    stop_pid "$pid"
  fi
  rm -f "$f"
done

# Pod processes: everything in the cgroup root the kubelet was given.
pod_pids() { cat /sys/fs/cgroup/*/execution-operator/cgroup.procs \
  /sys/fs/cgroup/*/execution-operator/**/cgroup.procs 2>/dev/null | sort -u; }
shopt -s globstar nullglob
for _ in 1 2 3; do
  pids="$(pod_pids)"
  [[ -z "$pids" ]] && break
  say "killing $(wc -w <<<"$pids") pod processes"
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
  sleep 0.2
done
# containerd shims serving this harness's socket (they outlive containerd).
for p in /proc/[0-9]*; do
  pid="${p#/proc/}"
  [[ "$(readlink "$p/exe" 2>/dev/null)" == */containerd-shim* ]] || continue
  if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q -- " -address $CONTAINERD_SOCK"; then
    say "stopping containerd shim (pid $pid)"
    kill -KILL "$pid" 2>/dev/null || true
  fi
done
for sub in /sys/fs/cgroup/*/execution-operator; do
  find "$sub" -depth -type d -exec rmdir {} \; 2>/dev/null || true
done

# Mounts under the state directory (secret tmpfs, shm, rootfs binds), deepest first.
if [[ -d "$STATE_DIR" ]]; then
  { findmnt -rn -o TARGET | grep -F "$STATE_DIR/" || true; } | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
fi

# Pod network namespaces the CNI plugin made during this cluster's life.
if [[ -f "$STATE_DIR/netns-before" ]]; then
  ip netns list | awk '{print $1}' | sort | comm -13 "$STATE_DIR/netns-before" - \
    | { grep '^cni-' || true; } | while read -r ns; do
    [[ "$ns" == "$NETNS" ]] || ip netns delete "$ns" 2>/dev/null || true
  done
fi
if ip netns list | awk '{print $1}' | grep -qx "$NETNS"; then
  say "removing network namespace $NETNS"
  ip netns delete "$NETNS"
fi
ip link show "$VETH_HOST" >/dev/null 2>&1 && ip link delete "$VETH_HOST"

# Runtime state goes; logs stay for post-mortems (up.sh overwrites them).
if [[ -d "$STATE_DIR" ]]; then
  find "$STATE_DIR" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} + 2>/dev/null || true
fi
say "cluster down"
