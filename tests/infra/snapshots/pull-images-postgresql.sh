#!/usr/bin/env bash
set -euo pipefail
readonly NODE_NAME=postgresql
readonly CRI_ENDPOINT=unix:///run/containerd/containerd.sock
readonly RETRY_SECONDS=5
readonly IMAGES='docker.io/library/postgres:17.6-bookworm
quay.io/prometheuscommunity/postgres-exporter:v0.17.1'

main() {
# Pulls the images this node's pods will run into containerd's Kubernetes namespace, so that their pods start
# without a pull. Each pull is retried; one that keeps failing stops the step with the registry's message.
local image attempt pulled
while IFS= read -r image; do
  [[ -n "$image" ]] || continue
  pulled=false
  for attempt in 1 2 3; do
    if crictl --runtime-endpoint "$CRI_ENDPOINT" pull "$image" >/dev/null; then
      pulled=true
      break
    fi
    echo "pull of ${image} failed (attempt ${attempt}/3); retrying" >&2
    sleep $((attempt * RETRY_SECONDS))
  done
  if [[ "$pulled" != true ]]; then
    echo "${NODE_NAME} could not pull ${image}" >&2
    exit 1
  fi
  echo "${NODE_NAME} has ${image}"
done <<<"$IMAGES"
}

main
