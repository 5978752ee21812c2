#!/usr/bin/env bash
set -euo pipefail
readonly NODE_NAME=api-1
readonly MARKER=/var/lib/eco2/node-prepared

main() {
# Waits for cloud-init to finish and checks that the node prep completed.
status=0
cloud-init status --wait >/dev/null || status=$?
# 2 means "finished with recoverable warnings" (deprecated keys and the like): the marker decides.
if [[ "$status" -ne 0 && "$status" -ne 2 ]]; then
  cloud-init status --long >&2 || true
  echo "cloud-init failed (exit ${status}); see /var/log/cloud-init-output.log" >&2
  exit 1
fi
if [[ ! -f "$MARKER" ]]; then
  echo "node prep did not complete; see /var/log/cloud-init-output.log" >&2
  exit 1
fi
echo "${NODE_NAME} is ready for kubeadm"
}

main
