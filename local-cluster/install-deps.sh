#!/usr/bin/env bash
# Installs the Debian packages the local cluster and image builds need.
# Idempotent: returns at once when everything is present.
source "$(dirname "$0")/lib.sh"

PACKAGES=(
  etcd-server containerd runc containernetworking-plugins iptables iproute2
  golang-go rsync jq dpkg-dev golang-github-modern-go-reflect2-dev
  gcc libc6-dev buildah debootstrap util-linux procps curl openssl conntrack
)
# kubectl: the machine's own when present, else Debian's client.
command -v kubectl >/dev/null || PACKAGES+=(kubernetes-client)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  with_progress "apt-get update" /tmp/local-cluster-apt-update.log apt-get update
  with_progress "installing ${missing[*]}" /tmp/local-cluster-apt-install.log \
    apt-get install -y --no-install-recommends "${missing[@]}"
fi

# The distribution's own services must not run: the harness runs its own.
for svc in containerd etcd; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
done

# Source packages: derive a deb-src entry from the machine's own apt sources,
# so no mirror is named here.
SRC_LIST=/etc/apt/sources.list.d/execution-operator-src.sources
if [[ ! -f "$SRC_LIST" ]] && ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  main_src=$(grep -ls '^Types: deb' /etc/apt/sources.list.d/*.sources | head -n1 || true)
  if [[ -n "$main_src" ]]; then
    sed 's/^Types: deb$/Types: deb-src/' "$main_src" >"$SRC_LIST"
  elif [[ -f /etc/apt/sources.list ]]; then
    sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >/etc/apt/sources.list.d/execution-operator-src.list
    touch "$SRC_LIST"
  else
    die "no apt sources found to derive a deb-src entry from"
  fi
  with_progress "apt-get update (source lists)" /tmp/local-cluster-apt-update.log apt-get update
fi
log "dependencies present"
