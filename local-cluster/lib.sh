# Shared settings and helpers for the local-cluster scripts (sourced, not run).
# One cluster per machine: its state lives at one machine-wide place, so a
# clone in another directory finds (and can clean) what an earlier one left.

set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-1.20.2}"
CACHE_DIR="${LOCAL_CLUSTER_CACHE:-/var/cache/execution-operator}"
KUBE_BIN_DIR="$CACHE_DIR/kubernetes-$KUBE_VERSION/bin"
STATE_DIR="${LOCAL_CLUSTER_STATE:-/var/lib/execution-operator-cluster}"
LOG_DIR="$STATE_DIR/logs"
PID_DIR="$STATE_DIR/pids"
PKI_DIR="$STATE_DIR/pki"
KUBECONFIG_FILE="$STATE_DIR/kubeconfig"

# The whole cluster lives in this network namespace; the host reaches it
# through one veth pair with private addresses that exist only here.
NETNS="${LOCAL_CLUSTER_NETNS:-exop}"
VETH_HOST="exop-host"
VETH_NS="exop-node"
HOST_IP="10.213.0.1"
NODE_IP="10.213.0.2"
POD_CIDR="10.214.0.0/16"
POD_GATEWAY="10.214.0.1"
SERVICE_CIDR="10.215.0.0/16"
NODE_NAME="local-node"
APISERVER_URL="https://$NODE_IP:6443"
CONTAINERD_SOCK="$STATE_DIR/containerd/containerd.sock"
# overlayfs shares image layers between containers; native copies the whole
# rootfs for each one (seconds per pod). native is the fallback where overlay
# mounts are refused.
SNAPSHOTTER="${LOCAL_CLUSTER_SNAPSHOTTER:-overlayfs}"

PAUSE_IMAGE="localhost/pause:$KUBE_VERSION"
BASE_IMAGE="${LOCAL_BASE_IMAGE:-localhost/python-base:bookworm}"

log() { printf '[local-cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# nsenter, not `ip netns exec`: that one also makes a mount namespace and
# remounts /sys, hiding the cgroup mounts and volume mounts from the kubelet.
in_ns() { nsenter --net="/run/netns/$NETNS" "$@"; }

# Runs a long command with its output in a log file and a heartbeat on stderr.
with_progress() {
  local what="$1" logfile="$2"; shift 2
  local start=$SECONDS
  log "$what (log: $logfile)"
  "$@" >"$logfile" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 15
    kill -0 "$pid" 2>/dev/null && log "  ... $what: $((SECONDS - start))s elapsed"
  done
  if ! wait "$pid"; then
    tail -n 40 "$logfile" >&2
    die "$what failed after $((SECONDS - start))s"
  fi
  log "$what: done in $((SECONDS - start))s"
}

pid_alive() {  # pid_alive NAME -> true when the recorded process still runs
  local f="$PID_DIR/$1.pid"
  [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local timeout="$1" what="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out after ${timeout}s waiting for $what"
    sleep 0.2
  done
}

start_component() {  # start_component NAME COMMAND... : runs in the namespace, pid and log recorded
  local name="$1"; shift
  # The shell records its own pid and then becomes the component (exec), so the
  # pid file names the component itself, not a wrapper.
  # Inherited descriptors are closed first: a lock held by the caller (flock on the
  # e2e lock, the cluster lock) must not live on in a long-running component.
  nsenter --net="/run/netns/$NETNS" setsid bash -c \
    'for fd in /proc/$$/fd/*; do fd=${fd##*/}; ((fd > 2)) && eval "exec $fd>&-"; done
     echo $$ >"$0"; exec "$@"' \
    "$PID_DIR/$name.pid" "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  wait_for 5 "$name to start" test -s "$PID_DIR/$name.pid"
}

kctl() { kubectl --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# One cluster per machine: up/down from several shells or clones take turns
# (a down.sh in the middle of another's up.sh would kill its steps).
cluster_lock() {
  [[ "${LOCAL_CLUSTER_LOCKED:-}" == 1 ]] && return 0
  mkdir -p "$(dirname "$STATE_DIR")"
  exec 9>"$STATE_DIR.lock"
  flock 9
  export LOCAL_CLUSTER_LOCKED=1
}

# buildah with storage in the cache (vfs: no overlay mounts needed) and chroot builds.
BUILDAH_ROOT="$CACHE_DIR/buildah"
bah() { buildah --root "$BUILDAH_ROOT/storage" --runroot "$BUILDAH_ROOT/run" --storage-driver vfs "$@"; }

# Loads an image from buildah storage into the running cluster's containerd.
load_image() {  # load_image IMAGE [ARCHIVE]
  local image="$1" archive="${2:-}" tmp=""
  if [[ -z "$archive" ]]; then
    tmp="$(mktemp -d)"
    archive="$tmp/image.oci.tar"
  fi
  rm -f "$archive"
  bah push --quiet "$image" "oci-archive:$archive:$image" >/dev/null
  if [[ -S "$CONTAINERD_SOCK" ]]; then
    ctr --address "$CONTAINERD_SOCK" -n k8s.io images import --snapshotter "$SNAPSHOTTER" "$archive" >/dev/null
  fi
  [[ -z "$tmp" ]] || rm -rf "$tmp"
}
