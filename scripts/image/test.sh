#!/usr/bin/env bash
# `make image-test`: the dev stack's app workloads from the plan output, run with podman kube play on the host
# network, a photo scanned through them, then the self-check's broken manifests (docs/delivery.md).
#   PLAN_OUT                 manifests folder (default .local/plan/dev/manifests; `make plan STACK=dev` writes it)
#   ECO2_IMAGE_TEST_API_PORT first of the consecutive local ports the APIs listen on (default 18081)
#   ECO2_IMAGE_TEST_S3_PORT  embedded S3 server port (default 19104)
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/image/env.sh
source scripts/image/env.sh
VENV=${VENV:-.venv}
export ECO2_IMAGE_TEST_API_PORT=${ECO2_IMAGE_TEST_API_PORT:-18081}
export ECO2_IMAGE_TEST_S3_PORT=${ECO2_IMAGE_TEST_S3_PORT:-19104}
PLAN_OUT=${PLAN_OUT:-.local/plan/dev/manifests}
export PLAN_OUT
if [ ! -d "$PLAN_OUT" ]; then
  make plan STACK=dev
fi
if ! compgen -G "$PLAN_OUT/Deployment.eco2.*.json" >/dev/null; then
  # Only until the program renders the app workloads: the hand-written manifests of the tests stand in.
  echo "WARNING: $PLAN_OUT holds no app Deployment; running tests/delivery/fixtures/plan instead" >&2
  PLAN_OUT=tests/delivery/fixtures/plan
fi
"$VENV/bin/pytest" -q -p no:cacheprovider -m podman tests/delivery
exec "$VENV/bin/python" -m tools.image_test --self-check --image "$ECO2_IMAGE" --plan "$PLAN_OUT"
