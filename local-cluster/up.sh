#!/usr/bin/env bash
# Brings up a real single-node Kubernetes (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, containerd, kubelet, kube-proxy)
# inside a network namespace made here. Idempotent: returns quickly when it runs.
source "$(dirname "$0")/lib.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
START=$SECONDS

COMPONENTS=(etcd containerd kube-apiserver kube-controller-manager kube-scheduler kubelet)

cluster_healthy() {
  local c
  for c in "${COMPONENTS[@]}"; do pid_alive "$c" || return 1; done
  [[ -f "$KUBECONFIG_FILE" ]] || return 1
  kctl get --raw /readyz >/dev/null 2>&1 || return 1
  node_ready
}

node_ready() {
  [[ "$(kctl get node "$NODE_NAME" \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == "True" ]]
}

# Services (the `kubernetes` one that in-cluster clients use included) need kube-proxy.
# It only adds NAT rules, so a running cluster that lacks it gets it without a restart.
start_kube_proxy() {
  pid_alive kube-proxy && return 0
  # Pod-to-Service traffic that a pod on the same bridge answers must pass iptables.
  in_ns sysctl -q -w net.bridge.bridge-nf-call-iptables=1 2>/dev/null || true
  start_component kube-proxy "$KUBE_BIN_DIR/kube-proxy" \
    --kubeconfig="$KUBECONFIG_FILE" --hostname-override="$NODE_NAME" \
    --bind-address="$NODE_IP" --cluster-cidr="$POD_CIDR" --proxy-mode=iptables \
    --healthz-bind-address=127.0.0.1:10256 --metrics-bind-address=127.0.0.1:10249 \
    --conntrack-max-per-core=0 --conntrack-tcp-timeout-established=0 \
    --conntrack-tcp-timeout-close-wait=0
  wait_for 30 "kube-proxy" in_ns curl -sf http://127.0.0.1:10256/healthz
}

link_state_dir() {  # a handle on the state from the work tree (ignored by git)
  [[ -L "$REPO/.cluster" || ! -e "$REPO/.cluster" ]] && ln -sfn "$STATE_DIR" "$REPO/.cluster"
}

cluster_lock
if cluster_healthy; then
  link_state_dir
  start_kube_proxy
  log "cluster already running (kubeconfig: $KUBECONFIG_FILE)"
  exit 0
fi

bash "$HERE/install-deps.sh"
bash "$HERE/build-kube.sh"
bash "$HERE/base-image.sh"

# Whatever an earlier run left (dead pids, the namespace, mounts) goes first.
bash "$HERE/down.sh" --quiet

mkdir -p "$LOG_DIR" "$PID_DIR" "$PKI_DIR"
link_state_dir
log "starting a fresh cluster; state and logs in $STATE_DIR"

# --- network namespace ------------------------------------------------------
ip netns add "$NETNS"
ip link add "$VETH_HOST" type veth peer name "$VETH_NS"
ip link set "$VETH_NS" netns "$NETNS"
ip addr add "$HOST_IP/24" dev "$VETH_HOST"
ip link set "$VETH_HOST" up
in_ns ip addr add "$NODE_IP/24" dev "$VETH_NS"
in_ns ip link set "$VETH_NS" up
in_ns ip link set lo up
# Pods' network namespaces made by the CNI plugin; recorded so down.sh removes only ours.
ip netns list | awk '{print $1}' | sort >"$STATE_DIR/netns-before"

# --- credentials ------------------------------------------------------------
openssl genrsa -out "$PKI_DIR/sa.key" 2048 2>/dev/null
openssl rsa -in "$PKI_DIR/sa.key" -pubout -out "$PKI_DIR/sa.pub" 2>/dev/null
ADMIN_TOKEN="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# A local, single-user cluster: every component authenticates as an admin.
printf '%s,admin,admin,"system:masters"\n' "$ADMIN_TOKEN" >"$PKI_DIR/tokens.csv"
chmod 600 "$PKI_DIR"/*

write_kubeconfig() {  # write_kubeconfig FILE
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $APISERVER_URL
    certificate-authority: $PKI_DIR/apiserver/apiserver.crt
users:
- name: admin
  user:
    token: $ADMIN_TOKEN
contexts:
- name: local
  context: {cluster: local, user: admin}
current-context: local
EOF
  chmod 600 "$1"
}
write_kubeconfig "$KUBECONFIG_FILE"

# --- etcd ---------------------------------------------------------------------
mkdir -p "$STATE_DIR/etcd"
start_component etcd etcd --name local --data-dir "$STATE_DIR/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster local=http://127.0.0.1:2380 --unsafe-no-fsync
wait_for 30 "etcd" in_ns curl -sf http://127.0.0.1:2379/health

# --- containerd -----------------------------------------------------------------
mkdir -p "$STATE_DIR/containerd" "$STATE_DIR/cni/net.d"
cat >"$STATE_DIR/containerd/config.toml" <<EOF
version = 2
root = "$STATE_DIR/containerd/root"
state = "$STATE_DIR/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # These VMs refuse a lower oom_score_adj; runc fails without this.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "$SNAPSHOTTER"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE_DIR/cni/net.d"
EOF
cat >"$STATE_DIR/cni/net.d/10-local.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "local",
  "plugins": [{
    "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
    "ipam": {"type": "host-local", "dataDir": "$STATE_DIR/cni/ipam",
             "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$POD_GATEWAY"}]],
             "routes": [{"dst": "0.0.0.0/0"}]}
  }]
}
EOF
start_component containerd containerd --config "$STATE_DIR/containerd/config.toml"
wait_for 30 "containerd" ctr --address "$CONTAINERD_SOCK" version

# Images are kept as archives in the cache and imported into each new cluster.
for archive in "$CACHE_DIR"/images/*.oci.tar; do
  [[ -e "$archive" ]] || continue
  ctr --address "$CONTAINERD_SOCK" -n k8s.io images import --snapshotter "$SNAPSHOTTER" "$archive" >/dev/null
done
log "images loaded: $(ctr --address "$CONTAINERD_SOCK" -n k8s.io images ls -q | grep -c . ) refs"

# --- control plane --------------------------------------------------------------
start_component kube-apiserver "$KUBE_BIN_DIR/kube-apiserver" \
  --etcd-servers=http://127.0.0.1:2379 \
  --advertise-address="$NODE_IP" --bind-address=0.0.0.0 --secure-port=6443 --insecure-port=0 \
  --cert-dir="$PKI_DIR/apiserver" --token-auth-file="$PKI_DIR/tokens.csv" \
  --authorization-mode=Node,RBAC --service-cluster-ip-range="$SERVICE_CIDR" \
  --service-account-issuer=https://kubernetes.default.svc \
  --service-account-key-file="$PKI_DIR/sa.pub" \
  --service-account-signing-key-file="$PKI_DIR/sa.key" \
  --kubelet-preferred-address-types=InternalIP \
  --allow-privileged=true --event-ttl=1h
wait_for 60 "kube-apiserver" kctl get --raw /readyz

start_component kube-controller-manager "$KUBE_BIN_DIR/kube-controller-manager" \
  --kubeconfig="$KUBECONFIG_FILE" --leader-elect=false --port=0 --bind-address=127.0.0.1 \
  --controllers='*,-nodeipam,-nodelifecycle' \
  --service-account-private-key-file="$PKI_DIR/sa.key" \
  --root-ca-file="$PKI_DIR/apiserver/apiserver.crt" --use-service-account-credentials=false
start_component kube-scheduler "$KUBE_BIN_DIR/kube-scheduler" \
  --kubeconfig="$KUBECONFIG_FILE" --leader-elect=false --port=0 --bind-address=127.0.0.1

# --- kubelet --------------------------------------------------------------------
mkdir -p "$STATE_DIR/kubelet"
# Pods' cgroups live under a root of their own, so down.sh can find every pod process.
for sub in /sys/fs/cgroup/*/; do
  [[ -f "$sub/cgroup.procs" && ! -L "${sub%/}" ]] && mkdir -p "$sub/execution-operator"
done
cat >"$STATE_DIR/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
cgroupRoot: /execution-operator
failSwapOn: false
podPidsLimit: 1024
# Kubernetes 1.27+ defaults (1.20's are 5 and 10): at 5/s, a burst of pods' ConfigMap
# volumes missed the kubelet's 1 s cache sync and their mounts backed off for seconds.
kubeAPIQPS: 50
kubeAPIBurst: 100
serializeImagePulls: false
makeIPTablesUtilChains: false
evictionHard: {memory.available: "200Mi", nodefs.available: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
nodeStatusUpdateFrequency: 2s
# Pods get no resolvers: nothing outside this namespace is to be asked.
resolvConf: ""
EOF
start_component kubelet "$KUBE_BIN_DIR/kubelet" \
  --config="$STATE_DIR/kubelet/config.yaml" --kubeconfig="$KUBECONFIG_FILE" \
  --root-dir="$STATE_DIR/kubelet" --cert-dir="$STATE_DIR/kubelet/pki" \
  --container-runtime=remote --container-runtime-endpoint="unix://$CONTAINERD_SOCK" \
  --pod-infra-container-image="$PAUSE_IMAGE" \
  --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" \
  --volume-plugin-dir="$STATE_DIR/kubelet/volume-plugins"

wait_for 90 "node $NODE_NAME Ready" node_ready
# The node-lifecycle controller is off, so nobody else lifts this taint.
kctl taint node "$NODE_NAME" node.kubernetes.io/not-ready- >/dev/null 2>&1 || true
wait_for 60 "default service account" kctl -n default get serviceaccount default
start_kube_proxy
log "cluster up in $((SECONDS - START))s — kubeconfig: $KUBECONFIG_FILE"
