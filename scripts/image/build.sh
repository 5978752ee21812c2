#!/usr/bin/env bash
# `make image`: build the app image with podman, offline, from the lock (docs/delivery.md).
# `--context-only`: only fill the build context (.local/image/wheels), for another builder (CI's buildx).
#   ECO2_IMAGE       tag to build (default localhost/eco2-api:dev)
#   ECO2_BASE_IMAGE        runtime base (default localhost/eco2-base:runtime-<key>, made with the build base by
#                          scripts/image/base.sh when missing; any other value, e.g. python:3.11-slim-bookworm,
#                          must already be in podman's store, and so must ECO2_BUILD_BASE_IMAGE)
#   ECO2_BUILD_BASE_IMAGE  the build stage's base, with binutils (default localhost/eco2-base:build-<key>)
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/image/env.sh
source scripts/image/env.sh
VENV=${VENV:-.venv}
started=$(date +%s)

"$VENV/bin/python" -m tools.image.wheels requirements/app.txt "$ECO2_IMAGE_CACHE/wheels" "$ECO2_WHEELS"
# The app's own wheel (code and data files only; tests, tools and the Pulumi program are not packaged).
# setuptools reuses build/lib: a module deleted from the tree would otherwise still be packaged.
rm -rf build
"$VENV/bin/python" -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir "$ECO2_WHEELS" .
if [ "${1:-}" = --context-only ]; then
  exit 0
fi
if [ "$ECO2_BASE_IMAGE" = "$ECO2_LOCAL_BASE_IMAGE" ]; then
  scripts/image/base.sh
fi
podman build --quiet --network none --pull=never --build-arg "BASE_IMAGE=$ECO2_BASE_IMAGE" \
  --build-arg "BUILD_BASE_IMAGE=$ECO2_BUILD_BASE_IMAGE" --tag "$ECO2_IMAGE" --file apps/Dockerfile . >/dev/null
podman image prune --force --filter label=eco2.stage=build >/dev/null  # the build stage's leftover image

size=$(podman image inspect --format '{{.Size}}' "$ECO2_IMAGE")
echo "built $ECO2_IMAGE from $ECO2_BASE_IMAGE: $((size / 1000000)) MB in $(($(date +%s) - started)) s"
