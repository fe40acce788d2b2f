#!/usr/bin/env bash
# Builds a Dockerfile on the local base image (BASE_IMAGE build argument) and
# loads the result into the local cluster's containerd.
#   image.sh IMAGE DOCKERFILE CONTEXT         build (when needed) and load
#   image.sh --ref IMAGE DOCKERFILE CONTEXT   print the content-addressed name only
#
# Every build is also tagged with a digest of what goes into it (the
# Dockerfile, the build context without bytecode caches, the base image), e.g.
# localhost/execution-runner:dev-3f2a9c0d1e4b5a67. When containerd already has
# that name, IMAGE is just pointed at it again (no build); when buildah still
# has it (a fresh cluster), it is loaded without a rebuild. Tests can run the
# content-addressed name, so a concurrent build of another tree under the same
# IMAGE name cannot change what they run.
source "$(dirname "$0")/lib.sh"
PRINT_REF=false
if [[ "${1:-}" == "--ref" ]]; then PRINT_REF=true; shift; fi
IMAGE="${1:?image name}"; DOCKERFILE="${2:?Dockerfile}"; CONTEXT="${3:?build context}"
# Older content-addressed builds of IMAGE kept in containerd (a running pod may use one).
KEEP_BUILDS="${IMAGE_KEEP_BUILDS:-4}"
bash "$(dirname "$0")/base-image.sh" >/dev/null

# repository and tag of IMAGE (a registry port is not a tag)
if [[ "${IMAGE##*/}" == *:* ]]; then REPO_NAME="${IMAGE%:*}"; TAG="${IMAGE##*:}"
else REPO_NAME="$IMAGE"; TAG=latest; fi

# find(1) tests that leave out what the context's .dockerignore leaves out (plain
# patterns, `**/` prefixes); with `!` exceptions nothing is left out (a rebuild
# too many is harmless, a missed one is not).
ignored_paths() {
  local ignore="$CONTEXT/.dockerignore" pattern
  [[ -f "$ignore" ]] && ! grep -q '^[[:space:]]*!' "$ignore" || return 0
  while IFS= read -r pattern || [[ -n "$pattern" ]]; do
    pattern="${pattern%%#*}"; pattern="${pattern//[[:space:]]/}"; pattern="${pattern%/}"
    pattern="${pattern#./}"; pattern="${pattern#/}"
    [[ -n "$pattern" ]] || continue
    if [[ "$pattern" == '**/'* ]]; then pattern="*/${pattern#'**/'}"; else pattern="./$pattern"; fi
    printf '%s\0' '!' -path "$pattern" '!' -path "$pattern/*"
  done <"$ignore"
}

context_digest() {
  local base_id excludes=()
  base_id="$(bah images --noheading --no-trunc --format '{{.ID}}' "$BASE_IMAGE" | head -n1)"
  mapfile -d '' excludes < <(ignored_paths)
  {
    echo "scheme 1"
    echo "base $BASE_IMAGE $base_id"
    echo "dockerfile $(sha256sum <"$DOCKERFILE" | cut -d' ' -f1)"
    (cd "$CONTEXT" && find . -type f ! -path '*/__pycache__/*' ! -name '*.pyc' "${excludes[@]}" \
      -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
  } | sha256sum | cut -c1-16
}
CONTENT_REF="$REPO_NAME:$TAG-$(context_digest)"
if $PRINT_REF; then
  echo "$CONTENT_REF"
  exit 0
fi
[[ -S "$CONTAINERD_SOCK" ]] || die "the local cluster is not running (make cluster-up)"

ctrk() { ctr --address "$CONTAINERD_SOCK" -n k8s.io "$@"; }
in_containerd() { [[ -n "$(ctrk images ls -q "name==$1")" ]]; }

start=$SECONDS
if in_containerd "$CONTENT_REF"; then
  ctrk images tag --force "$CONTENT_REF" "$IMAGE" >/dev/null
  log "$IMAGE is current ($CONTENT_REF); nothing to build"
  exit 0
fi
if bah inspect --type image "$CONTENT_REF" >/dev/null 2>&1; then
  load_image "$CONTENT_REF"
  log "loaded $CONTENT_REF (built earlier) in $((SECONDS - start))s"
else
  bah bud --quiet --isolation chroot --layers=false --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    --label "execution-operator.build-context=${CONTENT_REF##*:}" \
    -f "$DOCKERFILE" -t "$CONTENT_REF" "$CONTEXT" >/dev/null
  # Earlier content-addressed builds of this name go from buildah's storage (a full copy each).
  bah images --noheading --format '{{.Name}}:{{.Tag}}' 2>/dev/null \
    | awk -v prefix="$REPO_NAME:$TAG-" -v keep="$CONTENT_REF" \
      'index($0, prefix) == 1 && length($0) == length(prefix) + 16 && $0 != keep' \
    | xargs -r buildah --root "$BUILDAH_ROOT/storage" --runroot "$BUILDAH_ROOT/run" \
      --storage-driver vfs rmi >/dev/null 2>&1 || true
  load_image "$CONTENT_REF"
  log "built and loaded $CONTENT_REF in $((SECONDS - start))s"
fi
ctrk images tag --force "$CONTENT_REF" "$IMAGE" >/dev/null
ctrk images label "$CONTENT_REF" "execution-operator.loaded=$(date +%s)" >/dev/null

# Keep the newest KEEP_BUILDS content-addressed builds of IMAGE in containerd.
ctrk images ls 2>/dev/null | awk -v prefix="$REPO_NAME:$TAG-" 'index($1, prefix) == 1 {
    loaded = 0
    if (match($0, /execution-operator\.loaded=[0-9]+/)) loaded = substr($0, RSTART + 26, RLENGTH - 26)
    print loaded, $1
  }' | sort -rn | tail -n +"$((KEEP_BUILDS + 1))" | awk '{print $2}' \
  | xargs -r ctr --address "$CONTAINERD_SOCK" -n k8s.io images rm >/dev/null 2>&1 || true
