#!/usr/bin/env bash
# The local base images, both Debian bookworm minbase with Debian's python3 (3.11), from one debootstrap:
#   build   ($ECO2_BUILD_BASE_IMAGE)  + python3-venv (ensurepip's wheels) and binutils (strip): the build stage
#   runtime ($ECO2_BASE_IMAGE)        the same root filesystem less RUNTIME_PURGED and RUNTIME_REMOVED below
# No registry is reachable here, so instead of python:3.11-bookworm / python:3.11-slim-bookworm the bases are
# made from Debian's packages:
#   1. the podman image already exists            -> nothing to do
#   2. its rootfs tarball is in the cache         -> podman import (seconds)
#   3. otherwise                                   -> debootstrap (about 2 minutes), tar both into the cache
# Images and tarballs are named by ECO2_BASE_KEY, a digest of this script (scripts/image/env.sh): a changed
# script never reuses a stale base, and older bases stay usable by other checkouts.
# Cache: ECO2_IMAGE_CACHE (default /var/cache/eco2), kept between runs and clones on this machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/image/env.sh
source scripts/image/env.sh

# Packages the runtime never uses: the package manager and its keys and TLS stack, perl and debconf (only
# maintainer scripts use them), filesystem and login tools, and everything pip or venv would need.
# Purged with dpkg, so /var/lib/dpkg/status still lists exactly what the image holds (image scanners read it).
RUNTIME_PURGED=(
  python3-venv python3.11-venv python3-pip-whl python3-setuptools-whl python3-distutils python3-lib2to3
  binutils binutils-common binutils-x86-64-linux-gnu libbinutils libctf0 libctf-nobfd0 libgprofng0 libjansson4
  apt libapt-pkg6.0 gpgv debian-archive-keyring
  libgnutls30 libnettle8 libhogweed6 libgmp10 libp11-kit0 libtasn1-6 libidn2-0 libunistring2
  e2fsprogs logsave libext2fs2 libss2 mount util-linux-extra sysvinit-utils login
)
# Purged last: the maintainer scripts of the packages above run update-rc.d, perl and debconf.
RUNTIME_PURGED_LAST=(init-system-helpers adduser debconf perl-base)
# Files of packages that stay: glibc's iconv modules (Python, psycopg and the bundled libraries convert
# text themselves; UTF-8 and ASCII are built into glibc) and debconf's leftovers.
RUNTIME_REMOVED=(usr/lib/x86_64-linux-gnu/gconv var/cache/debconf var/log/apt var/log/dpkg.log)

build_tarball="$ECO2_IMAGE_CACHE/bookworm-build-$ECO2_BASE_KEY.tar"
runtime_tarball="$ECO2_IMAGE_CACHE/bookworm-runtime-$ECO2_BASE_KEY.tar"

debootstrap_both() {
  command -v debootstrap >/dev/null || { echo "debootstrap is required: apt-get install -y debootstrap" >&2; exit 1; }
  # The mirror this machine's apt already uses (deb822 or one-line sources).
  mirror=${ECO2_DEBIAN_MIRROR:-$( { grep -hoE '^(URIs:|deb) +[^ ]+/debian/?( |$)' \
    /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true; } | awk 'NR == 1 {print $2}')}
  [ -n "$mirror" ] || { echo "no Debian mirror found in the apt sources; set ECO2_DEBIAN_MIRROR" >&2; exit 1; }
  mkdir -p "$ECO2_IMAGE_CACHE"
  rootfs=$(mktemp -d "$ECO2_IMAGE_CACHE/rootfs.XXXXXX")
  trap 'rm -rf "$rootfs" "$build_tarball.partial" "$runtime_tarball.partial"' EXIT
  echo "debootstrap bookworm from $mirror into $rootfs (about 2 minutes)"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates,binutils bookworm "$rootfs" \
    "$mirror" >"$ECO2_IMAGE_CACHE/debootstrap.log" 2>&1 \
    || { echo "debootstrap failed; see $ECO2_IMAGE_CACHE/debootstrap.log" >&2; exit 1; }
  # What no image needs: apt lists and caches, documentation, translations (the C locale is built in).
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
  tar -C "$rootfs" --numeric-owner -cf "$build_tarball.partial" .

  for packages in "${RUNTIME_PURGED[*]}" "${RUNTIME_PURGED_LAST[*]}"; do
    # shellcheck disable=SC2086 # one word per package
    chroot "$rootfs" dpkg --purge --force-depends --force-remove-essential $packages \
      >>"$ECO2_IMAGE_CACHE/debootstrap.log" 2>&1 \
      || { echo "purging the runtime's unused packages failed; see $ECO2_IMAGE_CACHE/debootstrap.log" >&2; exit 1; }
  done
  for path in "${RUNTIME_REMOVED[@]}"; do
    rm -rf "${rootfs:?}/$path"
  done
  tar -C "$rootfs" --numeric-owner -cf "$runtime_tarball.partial" .
  mv "$build_tarball.partial" "$build_tarball"
  mv "$runtime_tarball.partial" "$runtime_tarball"
}

if ! podman image exists "$ECO2_BUILD_BASE_IMAGE" || ! podman image exists "$ECO2_BASE_IMAGE"; then
  if [ ! -s "$build_tarball" ] || [ ! -s "$runtime_tarball" ]; then
    debootstrap_both
  fi
fi
for pair in "$ECO2_BUILD_BASE_IMAGE=$build_tarball" "$ECO2_BASE_IMAGE=$runtime_tarball"; do
  image=${pair%%=*} tarball=${pair#*=}
  if podman image exists "$image"; then
    echo "base image $image is present"
    continue
  fi
  echo "importing $tarball as $image"
  podman import --quiet --change 'ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV=LANG=C.UTF-8' "$tarball" "$image" >/dev/null
done
