#!/usr/bin/env bash
# `make image-test`: the dev stack's app workloads from the plan output, run with podman kube play on the host
# network, a photo scanned through them, then the self-check's broken manifests (docs/delivery.md).
#   PLAN_OUT                 a plan output folder to read ($PLAN_OUT/dev/manifests); unset: `make plan
#                            STACK=dev` renders the manifests afresh into .local/plan
#   ECO2_IMAGE_TEST_API_PORT first of the consecutive local ports the APIs listen on (default 18081)
#   ECO2_IMAGE_TEST_S3_PORT  embedded S3 server port (default 19104)
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/image/env.sh
source scripts/image/env.sh
VENV=${VENV:-.venv}
export ECO2_IMAGE_TEST_API_PORT=${ECO2_IMAGE_TEST_API_PORT:-18081}
export ECO2_IMAGE_TEST_S3_PORT=${ECO2_IMAGE_TEST_S3_PORT:-19104}
if [ -z "${PLAN_OUT:-}" ]; then  # render afresh unless a plan output was given
  export PLAN_OUT=.local/plan
  make plan STACK=dev
fi
manifests=$PLAN_OUT/dev/manifests
"$VENV/bin/pytest" -q -p no:cacheprovider -m podman tests/delivery
exec "$VENV/bin/python" -m tools.image_test --self-check --image "$ECO2_IMAGE" --plan "$manifests"
