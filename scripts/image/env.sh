# shellcheck shell=bash
# Shared settings of the image scripts (sourced). Podman reads the project's containers.conf: runc (crun fails
# here on hybrid cgroups) and default ulimits within the host's hard limits.
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/scripts/image/containers.conf}
ECO2_IMAGE_CACHE=${ECO2_IMAGE_CACHE:-/var/cache/eco2}
# The local bases are named by a digest of the script that makes them (scripts/image/base.sh).
ECO2_BASE_KEY=$(sha256sum scripts/image/base.sh | cut -c1-12)
ECO2_LOCAL_BASE_IMAGE=localhost/eco2-base:runtime-$ECO2_BASE_KEY
ECO2_BASE_IMAGE=${ECO2_BASE_IMAGE:-$ECO2_LOCAL_BASE_IMAGE}
ECO2_BUILD_BASE_IMAGE=${ECO2_BUILD_BASE_IMAGE:-localhost/eco2-base:build-$ECO2_BASE_KEY}
ECO2_IMAGE=${ECO2_IMAGE:-localhost/eco2-api:dev}
ECO2_WHEELS=${ECO2_WHEELS:-.local/image/wheels}
export ECO2_IMAGE_CACHE ECO2_BASE_KEY ECO2_LOCAL_BASE_IMAGE ECO2_BASE_IMAGE ECO2_BUILD_BASE_IMAGE ECO2_IMAGE
export ECO2_WHEELS
