#!/usr/bin/env bash
# Builds a Dockerfile on the local base image (BASE_IMAGE build argument) and
# loads the result into the local cluster's containerd.
#   image.sh IMAGE DOCKERFILE CONTEXT
source "$(dirname "$0")/lib.sh"
IMAGE="${1:?image name}"; DOCKERFILE="${2:?Dockerfile}"; CONTEXT="${3:?build context}"
bash "$(dirname "$0")/base-image.sh" >/dev/null
[[ -S "$CONTAINERD_SOCK" ]] || die "the local cluster is not running (make cluster-up)"
start=$SECONDS
bah bud --quiet --isolation chroot --layers=false --build-arg "BASE_IMAGE=$BASE_IMAGE" \
  -f "$DOCKERFILE" -t "$IMAGE" "$CONTEXT" >/dev/null
load_image "$IMAGE"
log "built and loaded $IMAGE in $((SECONDS - start))s"
