#!/usr/bin/env bash
# Makes the two images the node cannot pull, once, as archives in the cache:
#   the sandbox ("pause") image, and a Debian bookworm base with Debian's python3
#   that stands in for python:3.11-slim when building the project's Dockerfiles.
source "$(dirname "$0")/lib.sh"
IMAGES_DIR="$CACHE_DIR/images"
mkdir -p "$IMAGES_DIR" "$BUILDAH_ROOT"

BASE_ARCHIVE="$IMAGES_DIR/python-base-bookworm.oci.tar"
if [[ ! -s "$BASE_ARCHIVE" ]] || ! bah inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  ROOTFS_TAR="$CACHE_DIR/rootfs/bookworm-python3.tar"
  if [[ ! -s "$ROOTFS_TAR" ]]; then
    # The mirror is the machine's own apt source, so none is named here.
    MIRROR="$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 | awk '{print $2}')"
    [[ -n "$MIRROR" ]] || MIRROR="$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)"
    [[ -n "$MIRROR" ]] || die "no Debian mirror found in the apt sources"
    work="$(mktemp -d)"
    with_progress "debootstrap bookworm + python3 (2-4 min)" "$CACHE_DIR/debootstrap.log" \
      debootstrap --variant=minbase --include=python3 bookworm "$work/rootfs" "$MIRROR"
    rm -rf "$work/rootfs"/var/cache/apt/archives/*.deb "$work/rootfs"/var/lib/apt/lists/* \
      "$work/rootfs"/usr/share/doc/* "$work/rootfs"/usr/share/man/*
    mkdir -p "$(dirname "$ROOTFS_TAR")"
    tar -C "$work/rootfs" --numeric-owner -cf "$ROOTFS_TAR.tmp" .
    mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
    rm -rf "$work"
  fi
  log "building $BASE_IMAGE"
  ctr_id="$(bah from scratch)"
  bah add "$ctr_id" "$ROOTFS_TAR" / >/dev/null
  bah config --cmd '["python3"]' --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env LANG=C.UTF-8 "$ctr_id"
  bah commit --quiet "$ctr_id" "$BASE_IMAGE" >/dev/null
  bah rm "$ctr_id" >/dev/null
  load_image "$BASE_IMAGE" "$BASE_ARCHIVE"
fi
PAUSE_ARCHIVE="$IMAGES_DIR/pause-$KUBE_VERSION.oci.tar"
if [[ ! -s "$PAUSE_ARCHIVE" ]]; then
  [[ -x "$KUBE_BIN_DIR/pause" ]] || die "no pause binary in $KUBE_BIN_DIR: run build-kube.sh first"
  log "building $PAUSE_IMAGE"
  ctr_id="$(bah from scratch)"
  bah copy "$ctr_id" "$KUBE_BIN_DIR/pause" /pause >/dev/null
  bah config --entrypoint '["/pause"]' "$ctr_id"
  bah commit --quiet "$ctr_id" "$PAUSE_IMAGE" >/dev/null
  bah rm "$ctr_id" >/dev/null
  load_image "$PAUSE_IMAGE" "$PAUSE_ARCHIVE"
fi

log "base images ready in $IMAGES_DIR"
