#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy and
# the static pause binary from Debian's `kubernetes` source package, once;
# the result is cached outside the work tree, keyed by version.
source "$(dirname "$0")/lib.sh"

BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)

have_all() {
  local b
  for b in "${BINARIES[@]}" pause; do [[ -x "$KUBE_BIN_DIR/$b" ]] || return 1; done
}
if have_all; then
  log "kubernetes $KUBE_VERSION binaries cached in $KUBE_BIN_DIR"
  exit 0
fi

SRC_ROOT="$CACHE_DIR/src/kubernetes-$KUBE_VERSION"
SRC="$SRC_ROOT/k8s"
mkdir -p "$SRC_ROOT"
if [[ ! -f "$SRC/go.mod" ]]; then
  rm -rf "$SRC"
  (cd "$SRC_ROOT" && apt-get source --download-only kubernetes >/dev/null 2>&1) \
    || die "apt-get source kubernetes failed (is a deb-src entry configured? run install-deps.sh)"
  dsc=$(ls "$SRC_ROOT"/kubernetes_*"$KUBE_VERSION"*.dsc | head -n1)
  [[ -n "$dsc" ]] || die "the source package is not version $KUBE_VERSION"
  (cd "$SRC_ROOT" && dpkg-source -x "$dsc" k8s >/dev/null)
fi

# Go 1.19 with the vendored reflect2 v1.0.1 crashes kube-apiserver on the
# first CRD request (mapiterinit SIGSEGV); Debian's reflect2 1.0.2 does not.
REFLECT2_SRC=/usr/share/gocode/src/github.com/modern-go/reflect2
if grep -q 'modern-go/reflect2 v1.0.1' "$SRC/go.mod"; then
  log "replacing vendored reflect2 v1.0.1 with Debian's 1.0.2"
  rm -rf "$SRC/vendor/github.com/modern-go/reflect2"
  cp -r "$REFLECT2_SRC" "$SRC/vendor/github.com/modern-go/reflect2"
  rm -f "$SRC/vendor/github.com/modern-go/reflect2/go.mod"
  sed -i 's#modern-go/reflect2 v1.0.1#modern-go/reflect2 v1.0.2#g' "$SRC/go.mod" "$SRC/vendor/modules.txt"
fi

# GOPATH laid out as debian/rules does.
mkdir -p "$SRC/.go/src/k8s.io"
[[ -L "$SRC/.go/src/k8s.io/kubernetes" ]] || ln -s ../../.. "$SRC/.go/src/k8s.io/kubernetes"

whats=()
for b in "${BINARIES[@]}"; do whats+=("cmd/$b"); done
with_progress "building ${BINARIES[*]} v$KUBE_VERSION (8-10 min cold on 2 cores)" \
  "$SRC_ROOT/build.log" \
  env -C "$SRC" GOPATH="$SRC/.go" CGO_ENABLED=0 HOME="$SRC_ROOT" GOFLAGS=-mod=vendor \
  make WHAT="${whats[*]}"

mkdir -p "$KUBE_BIN_DIR.tmp"
for b in "${BINARIES[@]}"; do
  cp "$SRC/_output/bin/$b" "$KUBE_BIN_DIR.tmp/$b"
done
# The sandbox image's only binary; it cannot be pulled here.
gcc -Os -static -o "$KUBE_BIN_DIR.tmp/pause" "$SRC/build/pause/linux/pause.c"
rm -rf "$KUBE_BIN_DIR"
mv "$KUBE_BIN_DIR.tmp" "$KUBE_BIN_DIR"
# The source tree (about 1 GB with build output) is not needed any more.
rm -rf "$SRC"
log "kubernetes $KUBE_VERSION binaries built into $KUBE_BIN_DIR"
