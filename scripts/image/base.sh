#!/usr/bin/env bash
# The local base image (localhost/eco2-base:bookworm): Debian bookworm minbase with Debian's python3 (3.11).
# No registry is reachable here, so instead of python:3.11-slim-bookworm the base is made from Debian's packages:
#   1. the podman image already exists            -> nothing to do
#   2. the rootfs tarball is in the cache         -> podman import (seconds)
#   3. otherwise                                   -> debootstrap (about 2 minutes), tar into the cache, import
# Cache: ECO2_IMAGE_CACHE (default /var/cache/eco2), kept between runs and clones on this machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/image/env.sh
source scripts/image/env.sh

if podman image exists "$ECO2_BASE_IMAGE"; then
  echo "base image $ECO2_BASE_IMAGE is present"
  exit 0
fi

tarball="$ECO2_IMAGE_CACHE/bookworm-minbase-python3.tar"
if [ ! -s "$tarball" ]; then
  command -v debootstrap >/dev/null || { echo "debootstrap is required: apt-get install -y debootstrap" >&2; exit 1; }
  # The mirror this machine's apt already uses (deb822 or one-line sources).
  mirror=${ECO2_DEBIAN_MIRROR:-$( { grep -hoE '^(URIs:|deb) +[^ ]+/debian/?( |$)' \
    /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true; } | awk 'NR == 1 {print $2}')}
  [ -n "$mirror" ] || { echo "no Debian mirror found in the apt sources; set ECO2_DEBIAN_MIRROR" >&2; exit 1; }
  mkdir -p "$ECO2_IMAGE_CACHE"
  rootfs=$(mktemp -d "$ECO2_IMAGE_CACHE/rootfs.XXXXXX")
  trap 'rm -rf "$rootfs" "$tarball.partial"' EXIT
  echo "debootstrap bookworm from $mirror into $rootfs (about 2 minutes)"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" "$mirror" \
    >"$ECO2_IMAGE_CACHE/debootstrap.log" 2>&1 \
    || { echo "debootstrap failed; see $ECO2_IMAGE_CACHE/debootstrap.log" >&2; exit 1; }
  # What an image does not need: apt lists and caches, documentation, locales other than C.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
  tar -C "$rootfs" --numeric-owner -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
fi

echo "importing $tarball as $ECO2_BASE_IMAGE"
podman import --quiet --change 'ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV=LANG=C.UTF-8' "$tarball" "$ECO2_BASE_IMAGE" >/dev/null
