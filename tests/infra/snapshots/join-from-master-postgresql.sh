#!/usr/bin/env bash
set -euo pipefail
readonly NODE_NAME=postgresql
readonly NODE_ADDRESS=10.0.32.7
readonly SSH_USER=ubuntu
readonly SSH_PRIVATE_KEY='-----BEGIN OPENSSH PRIVATE KEY-----
ZmFrZS1rZXktZm9yLW1vY2stdGVzdHMtb25seQ==
-----END OPENSSH PRIVATE KEY-----
'
readonly TOKEN_TTL=15m
readonly TOKEN_PLACEHOLDER=__JOIN_TOKEN__
readonly CA_HASH_PLACEHOLDER=__CA_CERT_HASH__
readonly WORKER_SCRIPT='# the worker'"'"'s join script
'

main() {
# Runs one worker's join from the master: mints a bootstrap token for this attempt only, puts it into the
# worker's join script and pipes that script to the worker over the VPC. A join retried hours later mints a
# new token instead of reusing an expired one. The deploy key exists on the master only while this runs.
local join_command token ca_cert_hash script
local token_re='--token[[:space:]]+([a-z0-9]{6}\.[a-z0-9]{16})'
local hash_re='--discovery-token-ca-cert-hash[[:space:]]+(sha256:[a-f0-9]{64})'

join_command="$(kubeadm token create --ttl "$TOKEN_TTL" --description "join ${NODE_NAME}" \
  --print-join-command)"
if [[ ! "$join_command" =~ $token_re ]]; then
  echo "kubeadm printed no bootstrap token" >&2
  exit 1
fi
token="${BASH_REMATCH[1]}"
if [[ ! "$join_command" =~ $hash_re ]]; then
  echo "kubeadm printed no CA certificate hash" >&2
  exit 1
fi
ca_cert_hash="${BASH_REMATCH[1]}"
script="${WORKER_SCRIPT//"$TOKEN_PLACEHOLDER"/"$token"}"
script="${script//"$CA_HASH_PLACEHOLDER"/"$ca_cert_hash"}"

key_file="$(mktemp)" # global: the EXIT trap runs after main returns
trap 'rm -f "$key_file"' EXIT
printf '%s\n' "$SSH_PRIVATE_KEY" >"$key_file"
printf '%s\n' "$script" | ssh -i "$key_file" -o BatchMode=yes -o ConnectTimeout=15 -o LogLevel=ERROR \
  -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "${SSH_USER}@${NODE_ADDRESS}" sudo bash -s
}

main
